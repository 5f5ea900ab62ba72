"""A local HTTP server that speaks the OpenAI chat-completions protocol, as OpenRouter does
(POST {base}/chat/completions, tool calls, usage with cost). Tests script its turns and read the
requests it received."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Turn:
    status: int = 200
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def text_turn(text: str, *, prompt_tokens: int = 120, completion_tokens: int = 30, cost: float = 0.0004) -> Turn:
    return Turn(
        body=_completion({"role": "assistant", "content": text}, "stop", prompt_tokens, completion_tokens, cost)
    )


def tool_turn(*calls: tuple[str, dict[str, Any]], cost: float = 0.0003) -> Turn:
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": f"call_{n}", "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}
            for n, (name, arguments) in enumerate(calls, 1)
        ],
    }
    return Turn(body=_completion(message, "tool_calls", 150, 20, cost))


def error_turn(status: int, message: str = "error", headers: dict[str, str] | None = None, delay: float = 0) -> Turn:
    return Turn(status=status, body={"error": {"message": message, "code": status}}, headers=headers or {}, delay=delay)


def _completion(message: dict[str, Any], finish: str, prompt: int, completion: int, cost: float) -> dict[str, Any]:
    return {
        "id": f"gen-{time.time_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "anthropic/claude-haiku-4.5",
        "provider": "Anthropic",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "cost": cost,
        },
    }


class ChatServer:
    """Serves the scripted turns in order; once they run out, asks `responder` (if any) for a turn
    made from the request's body, else repeats `default` (if any)."""

    def __init__(self) -> None:
        self.turns: list[Turn] = []
        self.default: Turn | None = None
        self.responder: Callable[[dict[str, Any]], Turn] | None = None
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append(
                    {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
                )
                if server.turns:
                    turn: Turn | None = server.turns.pop(0)
                else:
                    turn = server.responder(body) if server.responder else server.default
                if turn is None or not self.path.endswith("/chat/completions"):
                    turn = error_turn(404, "no scripted turn")
                if turn.delay:
                    time.sleep(turn.delay)
                payload = json.dumps(turn.body or {}).encode()
                try:
                    self.send_response(turn.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in turn.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/api/v1"

    def script(self, *turns: Turn) -> None:
        self.turns.extend(turns)

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
