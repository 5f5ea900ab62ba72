"""A local HTTP server that speaks the OpenAI chat-completions protocol, as OpenRouter does
(POST {base}/chat/completions, tool calls, usage with cost). Tests script its turns and read the
requests it received.

A turn is fixed (`text_turn`, `tool_turn`, `error_turn`, `empty_turn`) or computed from the
request (`respond(fn)`): `fn` reads the tool results the engine sent back (`tool_results(body)`)
and returns the next turn, as a model reads an id from a search result and uses it in its next
call. An exception in `fn` (a failed check) is kept in `ChatServer.failures` and answered 400.

Turns can be scripted per API key (`script_for`: the Authorization header's bearer), served
before the shared ones. Each request is logged with its key and the moment it arrived
(`time.time()`, to compare with the engine's rate-limit pauses) and its connection (`peer`). A `hold_turn` answers only
once the test calls `release()`; a client that disconnects meanwhile is logged in `aborted`
(the index of its request)."""

from __future__ import annotations

import json
import select
import socket
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Turn:
    status: int = 200
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    respond: Callable[[dict[str, Any]], Turn] | None = None  # computed from the request body
    hold: bool = False  # answered once released, unless the client disconnects first


def text_turn(text: str, *, prompt_tokens: int = 120, completion_tokens: int = 30, cost: float = 0.0004) -> Turn:
    return Turn(
        body=_completion({"role": "assistant", "content": text}, "stop", prompt_tokens, completion_tokens, cost)
    )


def tool_turn(*calls: tuple[str, dict[str, Any] | str], cost: float = 0.0003) -> Turn:
    """Tool calls, with their arguments as a dict (sent as JSON) or as the raw string to send."""
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": f"call_{n}",
                "type": "function",
                "function": {
                    "name": name,
                    "arguments": arguments if isinstance(arguments, str) else json.dumps(arguments),
                },
            }
            for n, (name, arguments) in enumerate(calls, 1)
        ],
    }
    return Turn(body=_completion(message, "tool_calls", 150, 20, cost))


def empty_turn(content: str | None = None) -> Turn:
    """A final answer with no text (None or blank)."""
    return Turn(body=_completion({"role": "assistant", "content": content}, "stop", 120, 0, 0.0001))


def respond(fn: Callable[[dict[str, Any]], Turn]) -> Turn:
    return Turn(respond=fn)


def tool_results(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The tool calls of the request's last assistant message, each with the result the engine
    sent back: [{"id", "name", "arguments", "result"}] (the result parsed from JSON)."""
    messages = body.get("messages", [])
    last = max((n for n, m in enumerate(messages) if m.get("role") == "assistant" and m.get("tool_calls")), default=-1)
    if last < 0:
        return []
    results = {m["tool_call_id"]: json.loads(m["content"]) for m in messages[last + 1 :] if m.get("role") == "tool"}
    return [
        {
            "id": call["id"],
            "name": call["function"]["name"],
            "arguments": _json_or_raw(call["function"]["arguments"]),
            "result": results.get(call["id"]),
        }
        for call in messages[last]["tool_calls"]
    ]


def _json_or_raw(text: str) -> Any:
    try:
        return json.loads(text or "{}")
    except ValueError:
        return text


def hold_turn(then: Turn | None = None) -> Turn:
    """Keeps the request open until `ChatServer.release()`, then answers `then` (a text turn by
    default); a client that disconnects first is logged in `ChatServer.aborted`."""
    return replace(then or text_turn("D'accord."), hold=True)


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
        self.key_turns: dict[str, list[Turn]] = {}
        self.default: Turn | None = None
        self.responder: Callable[[dict[str, Any]], Turn] | None = None
        self.requests: list[dict[str, Any]] = []
        self.aborted: list[int] = []  # requests whose client disconnected before the answer
        self.failures: list[str] = []
        self.released = threading.Event()
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as OpenRouter: a client's pool reuses connections

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                headers = {k.lower(): v for k, v in self.headers.items()}
                key = headers.get("authorization", "").removeprefix("Bearer ")
                with server.lock:
                    number = len(server.requests)
                    server.requests.append(
                        {
                            "path": self.path,
                            "headers": headers,
                            "body": body,
                            "key": key,
                            "at": time.time(),
                            "peer": self.client_address[1],  # the client's port: its connection
                        }
                    )
                    own = server.key_turns.get(key)
                    turn: Turn | None = own.pop(0) if own else server.turns.pop(0) if server.turns else None
                if turn is None:
                    turn = server.responder(body) if server.responder else server.default
                if turn is None or not self.path.endswith("/chat/completions"):
                    turn = error_turn(404, "no scripted turn")
                if turn.respond is not None:
                    try:
                        turn = turn.respond(body)
                    except Exception:  # a failed check of the script: the test reads it
                        server.failures.append(traceback.format_exc())
                        turn = error_turn(400, "the script's check failed")
                if turn.delay:
                    time.sleep(turn.delay)
                if turn.hold and not self._held():
                    server.aborted.append(number)
                    return
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

            def _held(self) -> bool:
                """Wait for `release()`: True, or False when the client disconnected first."""
                while not server.released.wait(0.02):
                    readable, _, _ = select.select([self.connection], [], [], 0)
                    if readable:
                        try:
                            if not self.connection.recv(1, socket.MSG_PEEK):
                                return False
                        except OSError:
                            return False
                return True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/api/v1"

    def script(self, *turns: Turn) -> None:
        self.turns.extend(turns)

    def script_for(self, key: str, *turns: Turn) -> None:
        """Turns for the requests made with API key `key`, before the shared ones."""
        with self.lock:
            self.key_turns.setdefault(key, []).extend(turns)

    def release(self) -> None:
        """Answer the held requests (`hold_turn`)."""
        self.released.set()

    def requests_of(self, key: str) -> list[dict[str, Any]]:
        return [request for request in self.requests if request["key"] == key]

    def tool_results(self, request: int = -1) -> list[dict[str, Any]]:
        """The tool results the engine sent in request number `request` (the last by default)."""
        return tool_results(self.requests[request]["body"])

    def stop(self) -> None:
        self.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()
