"""docs/spec.md is the reference the spec's models write: a change to a model that is not
written out fails here."""

from __future__ import annotations

from pathlib import Path

from agent.cli.spec_reference import reference
from connectors.spec import Pipeline

DOC = Path(__file__).resolve().parents[1] / "docs" / "spec.md"


def test_docs_spec_md_is_what_the_models_write() -> None:
    assert DOC.read_text(encoding="utf-8") == reference(), (
        "docs/spec.md is stale: run `dagsmith schema --markdown > docs/spec.md`"
    )


def test_every_field_of_every_model_is_in_the_reference() -> None:
    schema = Pipeline.model_json_schema()
    text = reference()
    models = {"Pipeline": schema, **schema["$defs"]}
    for name, model in models.items():
        for field in model.get("properties", {}):
            assert f"**`{field}`**" in text, f"{name}.{field} is missing"
