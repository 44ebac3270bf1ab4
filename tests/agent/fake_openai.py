"""A local stand-in for an OpenAI-compatible chat server, on 127.0.0.1.

It speaks the Chat Completions wire format and answers with the offline planner's next
step, so the `openai:` model path (langchain-openai, the HTTP client, tool calling)
runs end to end without a hosted model. It keeps every request body it receives; it can
answer the first request with a 429 rate-limit error, and it can play an imperfect model:
one of the hand-written behaviours of `tests/agent/model_mistakes.py`.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_openai.chat_models.base import _convert_dict_to_message

from agent.planner.chat import next_message
from tests.agent.model_mistakes import is_mistake, play


class FakeOpenAI(ThreadingHTTPServer):
    """The server: `bodies` holds each request body as received."""

    def __init__(
        self,
        port: int = 0,
        rate_limit_first: bool = False,
        behaviour: str | None = None,
        answer: Callable[[list[BaseMessage]], AIMessage] | None = None,
    ):
        super().__init__(("127.0.0.1", port), _Handler)
        self.bodies: list[bytes] = []
        self.rate_limit_first = rate_limit_first
        self.behaviour = behaviour
        self.answer = answer
        """Another agent's offline model (the monitor's) in place of the build planner."""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


def _messages(payload: dict[str, Any]) -> list[BaseMessage]:
    messages = []
    for item in payload["messages"]:
        message = _convert_dict_to_message(item)
        if isinstance(message, ToolMessage) and message.text.startswith("error"):
            message.status = "error"  # the wire format has no status: tools say "error: ..."
        messages.append(message)
    return messages


def reply_to(messages: list[BaseMessage], behaviour: str | None) -> AIMessage:
    """The planner's next step, or the scripted mistake of `behaviour` in its place."""
    reply = next_message([m for m in messages if not is_mistake(m)])
    return play(behaviour, messages, reply) if behaviour else reply


def completion(reply: AIMessage, model: str) -> dict[str, Any]:
    calls = [
        {
            "id": call["id"],
            "type": "function",
            "function": {"name": call["name"], "arguments": json.dumps(call["args"])},
        }
        for call in reply.tool_calls
    ]
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if calls:
        message["tool_calls"] = calls
    return {
        "id": "chatcmpl-local",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }


def chunks(reply: AIMessage, model: str) -> Iterator[dict[str, Any]]:
    """A reply as streamed chunks: its text word by word, then its tool calls."""
    words = re.findall(r"\S+\s*", reply.text)
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    deltas += [{"content": word} for word in words]
    deltas += [
        {"tool_calls": [{"index": i, **call}]}
        for i, call in enumerate(
            completion(reply, model)["choices"][0]["message"].get("tool_calls", [])
        )
    ]
    finish = "tool_calls" if reply.tool_calls else "stop"
    for i, delta in enumerate(deltas):
        last = i == len(deltas) - 1
        choice = {"index": 0, "delta": delta, "finish_reason": finish if last else None}
        yield {
            "id": "chatcmpl-local",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": model,
            "choices": [choice],
        }


class _Handler(BaseHTTPRequestHandler):
    server: FakeOpenAI

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.bodies.append(body)
        if self.server.rate_limit_first and len(self.server.bodies) == 1:
            error = {"error": {"message": "Rate limit reached", "type": "requests"}}
            self._send(429, error, {"retry-after-ms": "10"})
            return
        payload = json.loads(body)
        messages = _messages(payload)
        answer = self.server.answer
        reply = answer(messages) if answer else reply_to(messages, self.server.behaviour)
        if payload.get("stream"):
            self._stream(chunks(reply, payload["model"]))
        else:
            self._send(200, completion(reply, payload["model"]))

    def _stream(self, events: Iterator[dict[str, Any]]) -> None:
        """Server-sent events, one chunk each, as the Chat Completions API streams."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for event in events:
            self.wfile.write(b"data: " + json.dumps(event).encode() + b"\n\n")
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")

    def _send(
        self, status: int, data: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read `bodies`."""


@contextmanager
def serving(
    port: int = 0,
    rate_limit_first: bool = False,
    behaviour: str | None = None,
    answer: Callable[[list[BaseMessage]], AIMessage] | None = None,
) -> Iterator[FakeOpenAI]:
    """Run the stand-in on a thread for the duration of the block."""
    server = FakeOpenAI(port, rate_limit_first, behaviour, answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
