"""Meta's Graph API on the wire, for Messenger and Instagram alike: the only module that speaks
it. Everything returns parsed data or raises `GraphError`, whose `kind` tells the caller what
to do (retry, wait, stop writing to this person, ask the seller to reconnect).

`GraphClient` holds one token (a Page's, or an Instagram account's of Instagram Login) and the
host it belongs to (graph.facebook.com or graph.instagram.com); the OAuth functions at the end
turn a seller's consent into tokens. The HTTP clients are shared per host and per process
(`shared_http`), so a worker sending hundreds of messages keeps its connections open.

Tokens travel as the `access_token` parameter, as Meta documents; they never reach a log line
or a `GraphError` (`channels_app.meta.errors`, which masks them, Meta's own messages included).
"""

from __future__ import annotations

import datetime as dt
import http.cookiejar
import logging
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
from django.conf import settings

from channels_app.meta.errors import KINDS, RETRYABLE_KINDS, GraphError, error_kind, int_or_none, redact

__all__ = [
    "KINDS",
    "RETRYABLE_KINDS",
    "GraphClient",
    "GraphError",
    "MetaApp",
    "Token",
    "close_shared_http",
    "error_kind",
    "facebook_dialog_url",
    "facebook_exchange_code",
    "facebook_long_lived",
    "instagram_dialog_url",
    "instagram_exchange_code",
    "instagram_long_lived",
    "instagram_refresh",
    "shared_http",
]

logger = logging.getLogger(__name__)

# --- HTTP --------------------------------------------------------------------------------

# Idle connections are dropped after a few seconds: a send written on a connection the other
# side closed meanwhile could not be told from one that reached Meta.
LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)
_clients: dict[tuple[int, str, httpx.BaseTransport | None], httpx.Client] = {}
_clients_lock = threading.Lock()


def shared_http(base_url: str, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """The process's client for `base_url` (and `transport`): a pool of keep-alive connections
    shared by every GraphClient of that host. Keyed by process id too, so a forked worker
    never writes on its parent's sockets. It keeps no cookies (one pool serves many sellers)."""
    key = (os.getpid(), base_url.rstrip("/"), transport)
    with _clients_lock:
        client = _clients.get(key)
        if client is None or client.is_closed:
            no_cookies = http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
            client = httpx.Client(
                base_url=key[1],
                transport=transport,
                limits=LIMITS,
                timeout=settings.META_TIMEOUT_SECONDS,
                cookies=no_cookies,
                headers={"User-Agent": "ma5zani-bot"},
            )
            _clients[key] = client
        return client


def close_shared_http() -> None:
    """Close and forget every shared client (tests, process shutdown)."""
    with _clients_lock:
        clients = list(_clients.values())
        _clients.clear()
    for client in clients:
        client.close()


# Errors raised before a request is written: it certainly did not reach Meta.
NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def _request(
    client: httpx.Client,
    method: str,
    path: str,
    *,
    timeout: float,
    secrets: tuple[str, ...],
    params: Mapping[str, str | int] | None = None,
    json_body: Any = None,
    form: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """One call: Meta's JSON object, or GraphError (timeouts and connection failures are
    `temporary`; whatever the answer, no secret reaches the error)."""
    try:
        response = client.request(method, path, params=params, json=json_body, data=form, timeout=timeout)
    except httpx.RequestError as exc:  # timed out, refused, reset, DNS, TLS, a broken answer
        # Before the request went out (no connection), nothing happened; after, a write may have.
        unsent = isinstance(
            exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
        )
        what = "timed out" if isinstance(exc, httpx.TimeoutException) else redact(str(exc), secrets)
        raise GraphError(
            f"{method} {path}: {exc.__class__.__name__}: {what}",
            kind="temporary",
            maybe_sent=method != "GET" and not unsent,
        ) from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code >= 400 or (isinstance(body, dict) and "error" in body):
        raise GraphError.from_response(response, secrets)
    if not isinstance(body, dict):
        raise GraphError(
            f"{method} {path}: the answer is not a JSON object", status=response.status_code, kind="invalid"
        )
    logger.debug("Graph %s %s: HTTP %s", method, path, response.status_code)
    return body


def _csv(values: Iterable[str]) -> str:
    return ",".join(v for v in values if v)


# --- The Graph API with one token -----------------------------------------------------------

ACCOUNT_FIELDS = "id,name,access_token,tasks,instagram_business_account{id,username,name,profile_picture_url}"
MAX_ACCOUNT_PAGES = 50


@dataclass(frozen=True)
class SentMessage:
    recipient_id: str
    message_id: str


class GraphClient:
    """The Graph API with one access token on one host, under one API version."""

    def __init__(
        self,
        *,
        base_url: str,
        version: str,
        access_token: str,
        timeout: float | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.version = version.strip("/")
        self.timeout: float = settings.META_TIMEOUT_SECONDS if timeout is None else timeout
        self._token = access_token
        self._http = shared_http(self.base_url, transport)

    @classmethod
    def facebook(cls, access_token: str, **options: Any) -> GraphClient:
        """A Page token's client on the settings' Graph host (Messenger, Instagram via a Page)."""
        return cls(
            base_url=settings.META_GRAPH_URL, version=settings.META_GRAPH_VERSION, access_token=access_token, **options
        )

    @classmethod
    def instagram(cls, access_token: str, **options: Any) -> GraphClient:
        """An Instagram Login token's client on graph.instagram.com (or the settings' host)."""
        return cls(
            base_url=settings.META_INSTAGRAM_GRAPH_URL,
            version=settings.META_GRAPH_VERSION,
            access_token=access_token,
            **options,
        )

    def __repr__(self) -> str:  # never the token
        return f"GraphClient({self.base_url!r}, {self.version!r})"

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        token: str | None = None,
        versioned: bool = True,
    ) -> dict[str, Any]:
        url = f"/{self.version}/{path.lstrip('/')}" if versioned else f"/{path.lstrip('/')}"
        token = self._token if token is None else token
        return _request(
            self._http,
            method,
            url,
            timeout=self.timeout,
            secrets=(token, self._token),
            params={**(params or {}), "access_token": token},
            json_body=json_body,
            form=form,
        )

    def send(
        self,
        recipient: dict[str, str],
        *,
        message: dict[str, Any] | None = None,
        sender_action: str | None = None,
        messaging_type: str = "RESPONSE",
        tag: str | None = None,
    ) -> str:
        """POST /me/messages: a message (text, attachment, quick replies) or a sender action
        (typing_on, typing_off, mark_seen) to `recipient` ({"id": PSID or IGSID}, or
        {"comment_id": id} for a private reply). A `tag` (HUMAN_AGENT) makes it a MESSAGE_TAG
        send. Returns Meta's message id ("" for a sender action)."""
        if (message is None) == (sender_action is None):
            raise ValueError("send takes a message or a sender action")
        body: dict[str, Any] = {"recipient": recipient}
        if sender_action is not None:
            body["sender_action"] = sender_action
        else:
            body["messaging_type"] = "MESSAGE_TAG" if tag else messaging_type
            body["message"] = message
            if tag:
                body["tag"] = tag
        answer = self._call("POST", "me/messages", json_body=body)
        if sender_action is not None:
            return ""
        message_id = answer.get("message_id")
        if not isinstance(message_id, str) or not message_id:
            raise GraphError("the Send API answered without a message_id", status=200, kind="invalid")
        return message_id

    def user_profile(self, user_id: str, fields: tuple[str, ...]) -> dict[str, Any]:
        """GET /{user_id}: a person's profile (Messenger: first_name, last_name, profile_pic;
        Instagram: name, username, profile_pic)."""
        return self._call("GET", user_id, params={"fields": _csv(fields)})

    def subscribe_app(self, account_id: str, fields: tuple[str, ...]) -> None:
        """POST /{account_id}/subscribed_apps: the app receives these webhook fields of the
        Page or Instagram account."""
        answer = self._call("POST", f"{account_id}/subscribed_apps", params={"subscribed_fields": _csv(fields)})
        if answer.get("success") is not True:
            raise GraphError("subscribed_apps did not answer success", status=200, kind="invalid")

    def unsubscribe_app(self, account_id: str) -> None:
        """DELETE /{account_id}/subscribed_apps: the app no longer receives the account's webhooks."""
        self._call("DELETE", f"{account_id}/subscribed_apps")

    def send_private_reply(self, comment_id: str, message: dict[str, Any]) -> SentMessage:
        """The one private reply to a comment (POST /me/messages to {"comment_id": …}): Meta
        answers with the person's id on this channel, which opens their conversation."""
        answer = self._call(
            "POST", "me/messages", json_body={"recipient": {"comment_id": comment_id}, "message": message}
        )
        message_id = answer.get("message_id")
        if not isinstance(message_id, str) or not message_id:
            raise GraphError("the private reply was answered without a message_id", status=200, kind="invalid")
        return SentMessage(recipient_id=str(answer.get("recipient_id") or ""), message_id=message_id)

    def set_messenger_profile(self, profile: dict[str, Any]) -> None:
        """POST /me/messenger_profile: get_started, greeting, ice_breakers, persistent_menu. A
        profile naming its `platform` ("instagram") is sent with it as a parameter too, as
        Meta's Instagram pages show it (body and query both)."""
        platform = profile.get("platform")
        params = {"platform": platform} if isinstance(platform, str) and platform else None
        self._result_success(self._call("POST", "me/messenger_profile", params=params, json_body=profile))

    def delete_messenger_profile(self, fields: tuple[str, ...]) -> None:
        """DELETE /me/messenger_profile of these fields."""
        self._result_success(self._call("DELETE", "me/messenger_profile", json_body={"fields": list(fields)}))

    @staticmethod
    def _result_success(answer: dict[str, Any]) -> None:
        if answer.get("result") != "success":
            raise GraphError("messenger_profile did not answer success", status=200, kind="invalid")

    def reply_to_comment(self, comment_id: str, text: str, *, platform: str) -> str:
        """A public reply under a comment: Instagram POST /{comment_id}/replies, Facebook POST
        /{comment_id}/comments (the text in the form body, out of URLs and logs). Returns the
        reply's id."""
        if platform == "instagram":
            edge = "replies"
        elif platform in {"messenger", "facebook"}:
            edge = "comments"
        else:
            raise ValueError(f"no comment replies on {platform!r}")
        answer = self._call("POST", f"{comment_id}/{edge}", form={"message": text})
        reply_id = answer.get("id")
        if not isinstance(reply_id, str) or not reply_id:
            raise GraphError("the comment reply was answered without an id", status=200, kind="invalid")
        return reply_id

    def accounts(self) -> list[dict[str, Any]]:
        """GET /me/accounts with a user token: the Pages the person manages, each with its Page
        token, tasks and linked Instagram account, every page of results (`paging.next` is
        read for its path and cursor only: the token never goes anywhere but `base_url`)."""
        path, params = f"/{self.version}/me/accounts", {"fields": ACCOUNT_FIELDS, "limit": "100"}
        pages: list[dict[str, Any]] = []
        for _ in range(MAX_ACCOUNT_PAGES):
            answer = self._call("GET", path, params=params, versioned=False)
            pages += [page for page in answer.get("data") or [] if isinstance(page, dict)]
            next_url = (answer.get("paging") or {}).get("next")
            if not isinstance(next_url, str) or not next_url:
                break
            path, params = self._next_page(next_url)
        return pages

    def _next_page(self, next_url: str) -> tuple[str, dict[str, str]]:
        parts = urlsplit(next_url)
        prefix = urlsplit(self.base_url).path.rstrip("/")
        path = parts.path[len(prefix) :] if prefix and parts.path.startswith(prefix) else parts.path
        return path, {k: v for k, v in parse_qsl(parts.query) if k != "access_token"}

    def me(self, fields: tuple[str, ...]) -> dict[str, Any]:
        """GET /me: the token's own node (a person, a Page, an Instagram account)."""
        return self._call("GET", "me", params={"fields": _csv(fields)})

    def debug_token(self, input_token: str, app_token: str) -> dict[str, Any]:
        """GET /debug_token: Meta's `data` about `input_token` (is_valid, expires_at as a Unix
        time, 0 for never, scopes, user_id, app_id, type), asked with the app token."""
        answer = self._call("GET", "debug_token", params={"input_token": input_token}, token=app_token)
        data = answer.get("data")
        if not isinstance(data, dict):
            raise GraphError("debug_token answered without data", status=200, kind="invalid")
        return data


# --- OAuth ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    access_token: str = field(repr=False)
    expires_at: dt.datetime | None
    user_id: str = ""
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class MetaApp:
    """A Meta app and the hosts its login uses; `facebook()` and `instagram()` read settings."""

    app_id: str
    app_secret: str = field(repr=False)
    graph_url: str
    dialog_url: str
    version: str
    oauth_url: str = ""  # Instagram Login's code exchange (api.instagram.com)
    timeout: float = 10.0

    @classmethod
    def facebook(cls) -> MetaApp:
        return cls(
            app_id=settings.META_APP_ID,
            app_secret=settings.META_APP_SECRET,
            graph_url=settings.META_GRAPH_URL,
            dialog_url=settings.META_FACEBOOK_DIALOG_URL,
            version=settings.META_GRAPH_VERSION,
            timeout=settings.META_TIMEOUT_SECONDS,
        )

    @classmethod
    def instagram(cls) -> MetaApp:
        return cls(
            app_id=settings.META_INSTAGRAM_APP_ID or settings.META_APP_ID,
            app_secret=settings.META_INSTAGRAM_APP_SECRET or settings.META_APP_SECRET,
            graph_url=settings.META_INSTAGRAM_GRAPH_URL,
            dialog_url=settings.META_INSTAGRAM_DIALOG_URL,
            version=settings.META_GRAPH_VERSION,
            oauth_url=settings.META_INSTAGRAM_OAUTH_URL,
            timeout=settings.META_TIMEOUT_SECONDS,
        )

    @property
    def app_token(self) -> str:
        """The app access token (`app_id|app_secret`) that debug_token is asked with."""
        return f"{self.app_id}|{self.app_secret}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _token(answer: dict[str, Any], *, user_id: str = "", scopes: tuple[str, ...] = ()) -> Token:
    access_token = answer.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise GraphError("the token endpoint answered without an access_token", status=200, kind="invalid")
    expires_in = int_or_none(answer.get("expires_in"))
    return Token(
        access_token=access_token,
        expires_at=_now() + dt.timedelta(seconds=expires_in) if expires_in and expires_in > 0 else None,
        user_id=user_id,
        scopes=scopes,
    )


def _oauth_call(
    app: MetaApp,
    base_url: str,
    method: str,
    path: str,
    *,
    transport: httpx.BaseTransport | None,
    secrets: tuple[str, ...],
    params: Mapping[str, str] | None = None,
    form: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    return _request(
        shared_http(base_url, transport),
        method,
        path,
        timeout=app.timeout,
        secrets=(app.app_secret, *secrets),
        params=params,
        form=form,
    )


def facebook_dialog_url(
    state: str, redirect_uri: str, scopes: tuple[str, ...], *, app: MetaApp | None = None, config_id: str = ""
) -> str:
    """Facebook Login's dialog (www.facebook.com/{v}/dialog/oauth) for the seller's browser; a
    Facebook Login for Business `config_id` names its permissions instead of `scopes`."""
    app = app or MetaApp.facebook()
    query = {"client_id": app.app_id, "redirect_uri": redirect_uri, "state": state, "response_type": "code"}
    if scopes:
        query["scope"] = _csv(scopes)
    if config_id:
        query["config_id"] = config_id
    return f"{app.dialog_url.rstrip('/')}/{app.version}/dialog/oauth?{urlencode(query)}"


def facebook_exchange_code(
    code: str, redirect_uri: str, *, app: MetaApp | None = None, transport: httpx.BaseTransport | None = None
) -> Token:
    """GET /{v}/oauth/access_token: the dialog's code for a user token (short-lived)."""
    app = app or MetaApp.facebook()
    answer = _oauth_call(
        app,
        app.graph_url,
        "GET",
        f"/{app.version}/oauth/access_token",
        transport=transport,
        secrets=(code,),
        params={"client_id": app.app_id, "client_secret": app.app_secret, "redirect_uri": redirect_uri, "code": code},
    )
    return _token(answer)


def facebook_long_lived(
    short_token: str, *, app: MetaApp | None = None, transport: httpx.BaseTransport | None = None
) -> Token:
    """GET /{v}/oauth/access_token grant_type=fb_exchange_token: a long-lived user token (about
    60 days); the Page tokens read with it from /me/accounts do not expire."""
    app = app or MetaApp.facebook()
    answer = _oauth_call(
        app,
        app.graph_url,
        "GET",
        f"/{app.version}/oauth/access_token",
        transport=transport,
        secrets=(short_token,),
        params={
            "grant_type": "fb_exchange_token",
            "client_id": app.app_id,
            "client_secret": app.app_secret,
            "fb_exchange_token": short_token,
        },
    )
    return _token(answer)


def instagram_dialog_url(state: str, redirect_uri: str, scopes: tuple[str, ...], *, app: MetaApp | None = None) -> str:
    """Instagram Login's authorization window (www.instagram.com/oauth/authorize)."""
    app = app or MetaApp.instagram()
    query = {
        "client_id": app.app_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": _csv(scopes),
        "state": state,
    }
    return f"{app.dialog_url.rstrip('/')}/oauth/authorize?{urlencode(query)}"


def instagram_exchange_code(
    code: str, redirect_uri: str, *, app: MetaApp | None = None, transport: httpx.BaseTransport | None = None
) -> Token:
    """POST {oauth_url}/oauth/access_token (a form): the code for a short-lived (1 h) token with
    the account's user_id and granted permissions. Answered flat or inside {"data": [...]}."""
    app = app or MetaApp.instagram()
    answer = _oauth_call(
        app,
        app.oauth_url,
        "POST",
        "/oauth/access_token",
        transport=transport,
        secrets=(code,),
        form={
            "client_id": app.app_id,
            "client_secret": app.app_secret,
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri,
            "code": code,
        },
    )
    data = answer.get("data")
    if isinstance(data, list) and data and isinstance(data[0], dict):
        answer = data[0]
    permissions = answer.get("permissions") or ()
    if isinstance(permissions, str):
        permissions = permissions.split(",")
    scopes = tuple(str(p).strip() for p in permissions if str(p).strip())
    user_id = answer.get("user_id")
    return _token(answer, user_id="" if user_id is None else str(user_id), scopes=scopes)


def instagram_long_lived(
    short_token: str, *, app: MetaApp | None = None, transport: httpx.BaseTransport | None = None
) -> Token:
    """GET graph.instagram.com/access_token grant_type=ig_exchange_token: 60 days."""
    app = app or MetaApp.instagram()
    answer = _oauth_call(
        app,
        app.graph_url,
        "GET",
        "/access_token",
        transport=transport,
        secrets=(short_token,),
        params={"grant_type": "ig_exchange_token", "client_secret": app.app_secret, "access_token": short_token},
    )
    return _token(answer)


def instagram_refresh(token: str, *, app: MetaApp | None = None, transport: httpx.BaseTransport | None = None) -> Token:
    """GET graph.instagram.com/refresh_access_token grant_type=ig_refresh_token: 60 days again
    (the token must be at least 24 hours old and unexpired)."""
    app = app or MetaApp.instagram()
    answer = _oauth_call(
        app,
        app.graph_url,
        "GET",
        "/refresh_access_token",
        transport=transport,
        secrets=(token,),
        params={"grant_type": "ig_refresh_token", "access_token": token},
    )
    return _token(answer)
