"""The agent loop's recorder: a LangChain middleware that appends one audit record per step.

Any agent built with `create_agent` gets it by adding `AuditMiddleware(...)` to its
middleware: `build` and `chat` (agent/orchestrator/agent.py) and `diagnose` do. A step is a
tool call with its answer, or the model's reply that ends a turn. What a record keeps is
what the model saw (a tool's answer already quotes and truncates sampled values), with
every registered secret and every password in a URL masked, and truncated again.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langchain.agents.middleware import AgentMiddleware, ToolCallRequest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, ToolMessage
from pydantic import ValidationError

from agent.audit import trail
from connectors import __version__, masking
from connectors.spec import Pipeline, spec_hash

MAX_ARGS_CHARS = 2000
MAX_RESULT_CHARS = 1000
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^/:@\s]*:)[^@\s/]+@", re.IGNORECASE)
_SECRET_KEYS = {"password", "passwd", "secret", *masking.SECRET_EXTRAS}


def model_label(model: BaseChatModel) -> str:
    """The model's name as the user chose it: `offline`, or the provider's model name."""
    name = getattr(model, "model_name", None) or getattr(model, "model", None)
    return str(name) if name else "offline"


def masked(text: str) -> str:
    """`text` with registered secrets and URL passwords masked."""
    return masking.mask(_URL_PASSWORD.sub(rf"\g<head>{masking.MASK}@", text))


def _scrubbed(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: masking.MASK if str(k).lower() in _SECRET_KEYS and v else _scrubbed(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrubbed(item) for item in value]
    return value


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class AuditMiddleware(AgentMiddleware):
    """Appends a record to the project's audit trail for each step of the agent loop."""

    def __init__(
        self,
        project_dir: Path,
        command: str,
        model: BaseChatModel,
        saved_form: Callable[[Pipeline], Pipeline] | None = None,
    ) -> None:
        """`saved_form` turns a spec the agent gives a tool into the spec as it would be
        saved (paths relative to its folder), whose hash a DAG's header carries."""
        super().__init__()
        self.saved_form = saved_form or (lambda spec: spec)
        self.path = trail.trail_path(project_dir)
        self.project_dir = project_dir
        self.command = command
        self.model = model_label(model)
        self.model_version = f"dagsmith {__version__}" if self.model == "offline" else None
        self.run = uuid.uuid4().hex[:12]
        self.user = trail.who()
        self.spec: str | None = None
        """The hash of the last spec a step worked on: the next step's `spec_before`."""

    def after_model(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        """Note the version the provider says answered, and record a reply without tool calls."""
        message = state["messages"][-1] if state.get("messages") else None
        if not isinstance(message, AIMessage):
            return None
        meta = message.response_metadata or {}
        if meta.get("model_name"):
            fingerprint = meta.get("system_fingerprint")
            self.model_version = str(meta["model_name"]) + (
                f" ({fingerprint})" if fingerprint else ""
            )
        if not message.tool_calls:
            self._record("reply", {}, message.text, "ok", self.spec, [])
        return None

    def wrap_tool_call(
        self, request: ToolCallRequest, handler: Callable[[ToolCallRequest], Any]
    ) -> Any:
        """Run the tool, then record its call and its answer (or the error it raised)."""
        name, args = request.tool_call["name"], dict(request.tool_call.get("args") or {})
        before = self.spec
        try:
            result = handler(request)
        except Exception as exc:
            self._record(name, args, f"error: {exc}", "error", before, [])
            raise
        message = result if isinstance(result, ToolMessage) else None
        artifact = message.artifact if message else None
        self.spec = self._spec_of(args, artifact) or before
        self._record(
            name,
            args,
            message.text if message else str(result),
            "error" if message and message.status == "error" else "ok",
            before,
            self._files(artifact),
        )
        return result

    def saved(self, paths: list[Path], spec: Pipeline) -> None:
        """Record files the user saved outside the loop (the chat's /save and /pr)."""
        before, self.spec = self.spec, spec_hash(spec)
        said = "saved " + " and ".join(map(str, paths))
        self._record("/save", {}, said, "ok", before, self._files(paths))

    def _spec_of(self, args: dict[str, Any], artifact: Any) -> str | None:
        """The hash of the spec a step handled, as it would be saved: the one the agent gave
        it, else the one it returned (a checked artifact's is already in that form)."""
        if isinstance(args.get("spec"), dict):
            try:
                return spec_hash(self.saved_form(Pipeline.model_validate(args["spec"])))
            except ValidationError:
                return None
        spec = getattr(artifact, "spec", artifact)
        return spec_hash(spec) if isinstance(spec, Pipeline) else None

    def _files(self, artifact: Any) -> list[str]:
        if not isinstance(artifact, list | tuple):
            return []
        paths = [item for item in artifact if isinstance(item, Path)]
        root = self.project_dir.resolve()
        return [
            str(p.resolve().relative_to(root)) if p.resolve().is_relative_to(root) else str(p)
            for p in paths
        ]

    def _record(
        self, tool: str, args: dict[str, Any], result: str, status: str, before: str | None,
        files: list[str],
    ) -> None:  # fmt: skip
        arguments = json.dumps(_scrubbed(args), ensure_ascii=False, sort_keys=True, default=str)
        trail.append(
            self.path,
            {
                "command": self.command,
                "run": self.run,
                "user": self.user,
                "model": self.model,
                "model_version": self.model_version,
                "tool": tool,
                "args": _bounded(masked(arguments), MAX_ARGS_CHARS),
                "result": _bounded(masked(result), MAX_RESULT_CHARS),
                "status": status,
                "spec_before": before,
                "spec_after": self.spec,
                "files": files,
            },
        )
