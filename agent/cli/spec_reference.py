"""The pipeline spec's reference, written from its pydantic models (docs/spec.md).

`dagsmith schema --markdown > docs/spec.md` rewrites it; a test fails when the committed
file differs, so the reference cannot drift from the models.
"""

from __future__ import annotations

from jsonschema2md import Parser

from connectors.spec import Pipeline

_INTRO = (
    "<!-- Written by `dagsmith schema --markdown > docs/spec.md` from the spec's models: "
    "do not edit by hand. -->\n\n"
    "Every field of a pipeline spec (YAML), with its type, default and meaning. The README's "
    "[pipeline spec](../README.md#the-pipeline-spec) section shows them together.\n\n"
)


def reference() -> str:
    """The spec's reference as Markdown: each model, its fields, types and defaults."""
    parser = Parser(show_examples="all", header_level=1)
    lines = parser.parse_schema(Pipeline.model_json_schema())
    return _INTRO + "".join(lines).rstrip() + "\n"
