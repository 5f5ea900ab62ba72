"""A loopback Graph API for tests (Meta cannot be reached from them): one HTTP server on
127.0.0.1 that answers, on one port, what graph.facebook.com, graph.instagram.com,
api.instagram.com and the two login dialogs answer to the calls of `channels_app.meta.client`,
in Meta's documented shapes. Paths are accepted with any version prefix (/v26.0/...) or none.

It issues tokens and knows them: a Graph call with an unknown token is answered 190, an
`expire()`d one 190/463. The OAuth dialogs redirect (302) to the redirect_uri with a code and the
state at once, so a browser test can click through a "Connect" button. Every request is kept
in `calls` (`calls_to(suffix)`); `fail()` makes the next matching requests answer a Graph
error. Thread safe: requests are served on threads and tests read from theirs.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import traceback
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from channels_app.meta.testing_endpoints import (
    LONG_LIVED_SECONDS,
    SHORT_LIVED_SECONDS,
    GraphAnswer,
    GraphEndpoints,
    InstagramOAuthError,
    IssuedToken,
    Redirect,
    only_fields,
)

__all__ = ["LONG_LIVED_SECONDS", "SHORT_LIVED_SECONDS", "Call", "GraphServer", "IssuedToken"]

_VERSION = re.compile(r"^/v\d+(?:\.\d+)?(?=/)")


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # as requested, version included, without the query
    route: str  # the path without its version prefix
    query: dict[str, str]
    body: Any  # the JSON body, or the form as a dict; None when empty
    access_token: str
    peer: int = 0  # the client's port: its connection (a pool reuses them)


@dataclass
class _Failure:
    suffix: str
    code: int | None
    subcode: int | None
    status: int
    times: int | None
    retry_after: float | None
    message: str
    method: str | None
    headers: dict[str, str]
    transient: bool


class GraphServer(GraphEndpoints):
    def __init__(
        self,
        *,
        app_id: str = "meta-app",
        app_secret: str = "meta-secret",  # noqa: S107 (a test server's app)
        ig_app_id: str = "ig-app",
        ig_app_secret: str = "ig-secret",  # noqa: S107
        user_id: str = "10001",
        accounts_page_size: int = 25,
        ig_exchange_wrapped: bool = True,
    ) -> None:
        self.app_id, self.app_secret = app_id, app_secret
        self.ig_app_id, self.ig_app_secret = ig_app_id, ig_app_secret
        self.user_id = user_id  # the person who logs in with Facebook
        self.accounts_page_size = accounts_page_size
        self.ig_exchange_wrapped = ig_exchange_wrapped  # {"data": [...]} as newer versions answer
        self.instagram_login: dict[str, str] = {"user_id": "17841400000000001", "username": "shop.dz", "name": "Shop"}
        self.deny_dialog = False  # the person refuses the dialog
        self.lock = threading.RLock()
        self.calls: list[Call] = []
        self.tokens: dict[str, IssuedToken] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.pages: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, str]] = {}
        self.subscriptions: dict[str, list[str]] = {}
        self.profiles: dict[str, dict[str, Any]] = {}  # messenger_profile per Page
        self.instagram_profiles: dict[str, dict[str, Any]] = {}  # platform=instagram, per token's subject
        self.messages: list[dict[str, Any]] = []  # what was sent: sender, recipient, message, message_id
        self.comment_replies: list[dict[str, str]] = []
        self.errors: list[str] = []  # tracebacks of requests the server could not handle
        self._failures: list[_Failure] = []
        self._server = _HTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> GraphServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="graph-server", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- configuration ---------------------------------------------------------------------

    def is_valid(self, token: str) -> bool:
        with self.lock:
            issued = self.tokens.get(token)
            return issued is not None and not issued.expired

    def valid_tokens(self) -> set[str]:
        with self.lock:
            return {t for t, issued in self.tokens.items() if not issued.expired}

    def expire(self, token: str) -> None:
        with self.lock:
            self.tokens[token].expired = True

    def add_page(
        self,
        id: str,
        name: str,
        token: str,
        ig_account: dict[str, str] | None = None,
        tasks: tuple[str, ...] = ("MESSAGING", "MODERATE", "MANAGE"),
    ) -> None:
        """A Page the logged-in person manages, its Page token, and its Instagram account."""
        with self.lock:
            self.pages[id] = {
                "id": id,
                "name": name,
                "access_token": token,
                "tasks": list(tasks),
                "instagram_business_account": ig_account,
            }
            self.tokens[token] = IssuedToken(token, "page", id, ("pages_messaging", "pages_manage_metadata"))

    def add_user(
        self,
        id: str,
        first_name: str = "",
        last_name: str = "",
        profile_pic: str = "",
        name: str = "",
        username: str = "",
    ) -> None:
        """A customer whose profile can be read (Messenger or Instagram fields)."""
        fields = {
            "first_name": first_name,
            "last_name": last_name,
            "profile_pic": profile_pic,
            "name": name,
            "username": username,
        }
        with self.lock:
            self.users[id] = {"id": id, **{k: v for k, v in fields.items() if v}}

    def fail(
        self,
        path_suffix: str,
        code: int | None,
        subcode: int | None = None,
        status: int = 400,
        times: int | None = 1,
        retry_after: float | None = None,
        *,
        message: str = "",
        method: str | None = None,
        headers: dict[str, str] | None = None,
        transient: bool = False,
    ) -> None:
        """The next `times` requests (None: all) whose path ends with `path_suffix` answer this
        Graph error; `code=None` answers a body that is not JSON (a proxy's error page)."""
        with self.lock:
            self._failures.append(
                _Failure(
                    path_suffix,
                    code,
                    subcode,
                    status,
                    times,
                    retry_after,
                    message or f"(#{code}) scripted failure",
                    method,
                    headers or {},
                    transient,
                )
            )

    def calls_to(self, path_suffix: str, method: str | None = None) -> list[Call]:
        with self.lock:
            return [
                c
                for c in self.calls
                if (c.route.endswith(path_suffix) or c.path.endswith(path_suffix))
                and (method is None or c.method == method)
            ]

    # --- serving -------------------------------------------------------------------------

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], raw_body: bytes, peer: int = 0
    ) -> tuple[int, Any, dict[str, str]]:
        parts = urlsplit(raw_path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        body = _parse_body(headers.get("content-type", ""), raw_body)
        form = body if isinstance(body, dict) else {}
        token = query.get("access_token") or str(form.get("access_token") or "") or _bearer(headers)
        route = _VERSION.sub("", parts.path) or "/"
        with self.lock:
            self.calls.append(Call(method, parts.path, route, query, body, token, peer))
            failure = self._take_failure(method, parts.path, route)
        if failure is not None:
            return _failure_answer(failure)
        try:
            return 200, self._route(method, route, parts.path, query, form, body, token), {}
        except Redirect as redirect:
            return 302, None, {"Location": redirect.location}
        except GraphAnswer as error:
            detail = {
                "message": error.message,
                "type": "OAuthException",
                "code": error.code,
                "fbtrace_id": secrets.token_hex(6),
            }
            if error.subcode is not None:
                detail["error_subcode"] = error.subcode
            return error.status, {"error": detail}, {}
        except InstagramOAuthError as error:
            return 400, {"error_type": "OAuthException", "code": 400, "error_message": str(error)}, {}
        except Exception:  # a bug of the server or a malformed request: kept for the test to read
            self.errors.append(traceback.format_exc())
            return 500, {"error": {"message": "An unexpected error has occurred.", "code": 2}}, {}

    def _take_failure(self, method: str, path: str, route: str) -> _Failure | None:
        for failure in self._failures:
            if (route.endswith(failure.suffix) or path.endswith(failure.suffix)) and failure.method in (None, method):
                if failure.times is not None:
                    failure.times -= 1
                    if failure.times <= 0:
                        self._failures.remove(failure)
                return failure
        return None

    def _route(
        self, method: str, route: str, path: str, query: dict[str, str], form: dict[str, Any], body: Any, token: str
    ) -> Any:
        if method == "GET" and route == "/dialog/oauth":
            return self._dialog("facebook", query, self.app_id)
        if method == "GET" and route == "/oauth/authorize":
            return self._dialog("instagram", query, self.ig_app_id)
        if route == "/oauth/access_token":
            return self._ig_exchange(form) if method == "POST" else self._fb_exchange(query)
        if method == "GET" and route == "/access_token":
            return self._ig_long_lived(query)
        if method == "GET" and route == "/refresh_access_token":
            return self._token_answer(self._reissue(self._auth(token, "instagram"), LONG_LIVED_SECONDS))
        if method == "GET" and route == "/debug_token":
            return self._debug_token(query, token)
        issued = self._auth(token)
        segments = route.strip("/").split("/")
        with self.lock:
            if route == "/me/accounts" and method == "GET":
                return self._accounts(issued, path, query, token)
            if segments[-1] == "messages" and method == "POST" and len(segments) == 2:
                return self._send(issued, body if isinstance(body, dict) else {})
            if route == "/me/messenger_profile":
                payload = body if isinstance(body, dict) else {}
                platform = query.get("platform") or str(payload.get("platform") or "")
                return self._messenger_profile(issued, method, payload, platform)
            if segments[-1] == "subscribed_apps" and len(segments) == 2:
                return self._subscribed_apps(issued, segments[0], method, {**query, **form})
            if segments[-1] in {"replies", "comments"} and method == "POST" and len(segments) == 2:
                return self._comment_reply(issued, segments[0], segments[1], str(form.get("message") or ""))
            if route == "/me" and method == "GET":
                return only_fields(self._me(issued), query.get("fields"))
            if len(segments) == 1 and method == "GET" and segments[0] in self.users:
                return only_fields(self.users[segments[0]], query.get("fields"))
        raise GraphAnswer(100, f"Unsupported {method} request. Object with ID '{segments[0]}' does not exist", 33)


def _bearer(headers: dict[str, str]) -> str:
    value = headers.get("authorization", "")
    return value.split(" ", 1)[1] if " " in value else ""


def _parse_body(content_type: str, raw: bytes) -> Any:
    if not raw:
        return None
    if "json" in content_type:
        return json.loads(raw)
    if "x-www-form-urlencoded" in content_type:
        return dict(parse_qsl(raw.decode(), keep_blank_values=True))
    return raw.decode(errors="replace")


def _failure_answer(failure: _Failure) -> tuple[int, Any, dict[str, str]]:
    headers = dict(failure.headers)
    if failure.retry_after is not None:
        headers["Retry-After"] = f"{failure.retry_after:g}"
    if failure.code is None:
        return failure.status, "<html><body>Bad gateway</body></html>", headers
    detail: dict[str, Any] = {
        "message": failure.message,
        "type": "OAuthException",
        "code": failure.code,
        "fbtrace_id": secrets.token_hex(6),
    }
    if failure.subcode is not None:
        detail["error_subcode"] = failure.subcode
    if failure.transient:
        detail["is_transient"] = True
    return failure.status, {"error": detail}, headers


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # The listen backlog: socketserver's 5 resets connections when a pool opens dozens at once.
    request_queue_size = 256


def _handler(server: GraphServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as Meta: the client's pool reuses connections

        def log_message(self, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, body, extra = server.handle(self.command, self.path, headers, raw, self.client_address[1])
            if body is None:
                payload, content_type = b"", "text/plain"
            elif isinstance(body, str):
                payload, content_type = body.encode(), "text/html"
            else:
                payload, content_type = json.dumps(body).encode(), "application/json"
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass

        do_GET = do_POST = do_DELETE = _serve

    return Handler
