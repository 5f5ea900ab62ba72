"""The endpoints of the loopback Graph API (`channels_app.meta.testing.GraphServer`): what
Meta answers to each call of `channels_app.meta.client`, in its documented shapes, with the
errors Meta gives for a bad code, secret or token, and Meta's limits on what a message holds.
The server's state (tokens, pages, what was sent) lives on the server; these only read and
change it under its lock.
"""

from __future__ import annotations

import abc
import base64
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

LONG_LIVED_SECONDS = 5_183_944  # what Meta answers for 60 days
SHORT_LIVED_SECONDS = 3_600


@dataclass
class IssuedToken:
    token: str
    kind: str  # user, page, instagram
    subject: str  # the user, Page or Instagram account it acts as
    scopes: tuple[str, ...] = ()
    expires_in: int = 0  # 0: never
    issued_at: float = field(default_factory=time.time)
    expired: bool = False


# The webhook fields Meta documents (Page webhooks; Instagram API with Instagram Login).
PAGE_FIELDS = frozenset(
    {
        "feed",
        "message_deliveries",
        "message_echoes",
        "message_reactions",
        "message_reads",
        "messages",
        "messaging_handovers",
        "messaging_optins",
        "messaging_postbacks",
        "messaging_referrals",
        "standby",
    }
)
INSTAGRAM_FIELDS = frozenset(
    {
        "comments",
        "live_comments",
        "message_reactions",
        "messages",
        "messaging_postbacks",
        "messaging_referral",
        "messaging_seen",
    }
)


class GraphAnswer(Exception):
    """A Graph error to answer instead of the endpoint's data (raised inside a handler)."""

    def __init__(self, code: int, message: str, subcode: int | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.subcode, self.status = code, message, subcode, status


class Redirect(Exception):
    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


class InstagramOAuthError(Exception):
    pass


class GraphEndpoints(abc.ABC):
    """The endpoints, mixed into GraphServer (which sets these attributes)."""

    app_id: str
    app_secret: str
    ig_app_id: str
    ig_app_secret: str
    user_id: str
    accounts_page_size: int
    ig_exchange_wrapped: bool
    instagram_login: dict[str, str]
    deny_dialog: bool
    lock: threading.RLock
    tokens: dict[str, IssuedToken]
    codes: dict[str, dict[str, Any]]
    pages: dict[str, dict[str, Any]]
    users: dict[str, dict[str, str]]
    subscriptions: dict[str, list[str]]
    profiles: dict[str, dict[str, Any]]
    instagram_profiles: dict[str, dict[str, Any]]
    messages: list[dict[str, Any]]
    comment_replies: list[dict[str, str]]

    @property
    @abc.abstractmethod
    def url(self) -> str:
        """Where the server listens (paging.next links point there)."""

    def issue_token(self, kind: str, subject: str, scopes: tuple[str, ...] = (), expires_in: int = 0) -> str:
        token = f"{kind}-{secrets.token_hex(12)}"
        with self.lock:
            self.tokens[token] = IssuedToken(token, kind, subject, tuple(scopes), expires_in)
        return token

    # --- OAuth -----------------------------------------------------------------------------

    def _dialog(self, platform: str, query: dict[str, str], app_id: str) -> Any:
        redirect_uri, state = query.get("redirect_uri", ""), query.get("state", "")
        if not redirect_uri or query.get("client_id") != app_id:
            raise GraphAnswer(101, "Error validating application. Invalid application ID.")
        if self.deny_dialog:
            answer = {
                "error": "access_denied",
                "error_reason": "user_denied",
                "error_description": "Permissions error",
                "state": state,
            }
        else:
            code = f"code-{secrets.token_hex(10)}"
            scopes = tuple(s for s in re.split(r"[,\s]+", query.get("scope", "")) if s)
            with self.lock:
                self.codes[code] = {"platform": platform, "redirect_uri": redirect_uri, "scopes": scopes, "used": False}
            answer = {"code": code, "state": state}
        separator = "&" if "?" in redirect_uri else "?"
        raise Redirect(f"{redirect_uri}{separator}{urlencode(answer)}" + ("#_" if platform == "instagram" else ""))

    def _use_code(self, platform: str, code: str, redirect_uri: str) -> tuple[str, ...]:
        with self.lock:
            issued = self.codes.get(code)
            if issued is None or issued["platform"] != platform:
                raise GraphAnswer(100, "Invalid verification code format.")
            if issued["used"]:
                raise GraphAnswer(100, "This authorization code has been used.", 36009)
            if issued["redirect_uri"] != redirect_uri:
                raise GraphAnswer(
                    100,
                    "Error validating verification code. Please make sure your redirect_uri is "
                    "identical to the one you used in the OAuth dialog request",
                    36008,
                )
            issued["used"] = True
            return tuple(issued["scopes"])

    def _check_app(self, client_id: str | None, client_secret: str | None, *, instagram: bool) -> None:
        app_id, app_secret = (self.ig_app_id, self.ig_app_secret) if instagram else (self.app_id, self.app_secret)
        if client_id is not None and client_id != app_id:
            raise GraphAnswer(101, "Error validating application. Invalid application ID.")
        if client_secret != app_secret:
            raise GraphAnswer(101, "Error validating client secret.")

    def _fb_exchange(self, query: dict[str, str]) -> dict[str, Any]:
        self._check_app(query.get("client_id", ""), query.get("client_secret"), instagram=False)
        if query.get("grant_type") == "fb_exchange_token":
            short = self._auth(query.get("fb_exchange_token", ""), "user")
            return self._token_answer(self._reissue(short, LONG_LIVED_SECONDS))
        scopes = self._use_code("facebook", query.get("code", ""), query.get("redirect_uri", ""))
        return self._token_answer(self.issue_token("user", self.user_id, scopes, SHORT_LIVED_SECONDS))

    def _ig_exchange(self, form: dict[str, Any]) -> dict[str, Any]:
        try:
            self._check_app(str(form.get("client_id", "")), str(form.get("client_secret", "")), instagram=True)
            if form.get("grant_type") != "authorization_code":
                raise GraphAnswer(100, "Invalid grant_type")
            scopes = self._use_code("instagram", str(form.get("code", "")), str(form.get("redirect_uri", "")))
        except GraphAnswer as error:  # api.instagram.com answers its own flat shape
            raise InstagramOAuthError(error.message) from None
        user_id = self.instagram_login["user_id"]
        token = self.issue_token("instagram", user_id, scopes, SHORT_LIVED_SECONDS)
        answer = {
            "access_token": token,
            "user_id": int(user_id) if user_id.isdigit() else user_id,
            "permissions": ",".join(scopes),
        }
        return {"data": [answer]} if self.ig_exchange_wrapped else answer

    def _ig_long_lived(self, query: dict[str, str]) -> dict[str, Any]:
        self._check_app(None, query.get("client_secret"), instagram=True)
        if query.get("grant_type") != "ig_exchange_token":
            raise GraphAnswer(100, "Invalid grant_type")
        return self._token_answer(
            self._reissue(self._auth(query.get("access_token", ""), "instagram"), LONG_LIVED_SECONDS)
        )

    def _reissue(self, issued: IssuedToken, expires_in: int) -> str:
        return self.issue_token(issued.kind, issued.subject, issued.scopes, expires_in)

    def _token_answer(self, token: str) -> dict[str, Any]:
        with self.lock:
            issued = self.tokens[token]
        return {"access_token": token, "token_type": "bearer", "expires_in": issued.expires_in}

    def _debug_token(self, query: dict[str, str], token: str) -> dict[str, Any]:
        if token not in {f"{self.app_id}|{self.app_secret}", f"{self.ig_app_id}|{self.ig_app_secret}"}:
            raise GraphAnswer(190, "Invalid OAuth access token - Cannot parse access token")
        with self.lock:
            issued = self.tokens.get(query.get("input_token", ""))
        if issued is None:
            return {"data": {"is_valid": False, "error": {"code": 190, "message": "Invalid OAuth access token."}}}
        data: dict[str, Any] = {
            "app_id": self.ig_app_id if issued.kind == "instagram" else self.app_id,
            "type": {"user": "USER", "page": "PAGE", "instagram": "USER"}[issued.kind],
            "application": "ma5zani",
            "expires_at": int(issued.issued_at + issued.expires_in) if issued.expires_in else 0,
            "is_valid": not issued.expired,
            "scopes": list(issued.scopes),
            "user_id": self.user_id if issued.kind == "page" else issued.subject,
        }
        if issued.kind == "page":
            data["profile_id"] = issued.subject
        return {"data": data}

    # --- the Graph API ----------------------------------------------------------------------

    def _auth(self, token: str, kind: str | None = None) -> IssuedToken:
        if not token:
            raise GraphAnswer(104, "An access token is required to request this resource.")
        with self.lock:
            issued = self.tokens.get(token)
        if issued is None:
            raise GraphAnswer(190, "Invalid OAuth access token - Cannot parse access token")
        if issued.expired:
            raise GraphAnswer(190, "Error validating access token: Session has expired.", 463)
        if kind is not None and issued.kind != kind:
            raise GraphAnswer(190, f"Invalid OAuth access token: not a {kind} token")
        return issued

    def _me(self, issued: IssuedToken) -> dict[str, Any]:
        if issued.kind == "page":
            page = self.pages.get(issued.subject, {})
            return {"id": issued.subject, "name": page.get("name", "")}
        if issued.kind == "instagram":
            login = self.instagram_login
            return {
                "id": login["user_id"],
                "user_id": login["user_id"],
                "username": login["username"],
                "name": login["name"],
                "account_type": "BUSINESS",
            }
        return {"id": issued.subject, "name": "Seller"}

    def _accounts(self, issued: IssuedToken, path: str, query: dict[str, str], token: str) -> dict[str, Any]:
        if issued.kind != "user":
            raise GraphAnswer(100, "(#100) Tried accessing nonexisting field (accounts) on node type (Page)")
        wanted = query.get("fields", "")
        pages = []
        for page in self.pages.values():
            row = {k: v for k, v in page.items() if k != "instagram_business_account"}
            if page["instagram_business_account"] and "instagram_business_account" in wanted:
                row["instagram_business_account"] = dict(page["instagram_business_account"])
            pages.append(row)
        start = int(base64.b64decode(query["after"]).decode()) + 1 if query.get("after") else 0
        size = min(int(query.get("limit") or 25), self.accounts_page_size)
        chunk = pages[start : start + size]
        answer: dict[str, Any] = {"data": chunk}
        if chunk:
            cursor = base64.b64encode(str(start + len(chunk) - 1).encode()).decode()
            answer["paging"] = {"cursors": {"before": base64.b64encode(str(start).encode()).decode(), "after": cursor}}
            if start + size < len(pages):
                next_query = {**query, "after": cursor, "access_token": token}
                answer["paging"]["next"] = f"{self.url}{path}?{urlencode(next_query)}"
        return answer

    def _send(self, issued: IssuedToken, body: dict[str, Any]) -> dict[str, Any]:
        recipient = body.get("recipient") or {}
        target = recipient.get("id") or recipient.get("comment_id") or recipient.get("post_id")
        if not target:
            raise GraphAnswer(100, "(#100) The parameter recipient is required")
        message, action = body.get("message"), body.get("sender_action")
        if (message is None) == (action is None):
            raise GraphAnswer(100, "(#100) Cannot send both message and sender_action (or neither)")
        if body.get("tag") and body.get("messaging_type") != "MESSAGE_TAG":
            raise GraphAnswer(100, "(#100) A tag needs messaging_type MESSAGE_TAG")
        if message is not None:
            _check_message(message, 1000 if issued.kind == "instagram" else 2000)
        recipient_id = recipient.get("id") or f"psid-of-{target}"
        if action is not None:
            return {"recipient_id": recipient_id}
        message_id = f"m_{secrets.token_urlsafe(24)}"
        self.messages.append(
            {
                "sender": issued.subject,
                "recipient": recipient,
                "message": message,
                "messaging_type": body.get("messaging_type"),
                "tag": body.get("tag"),
                "message_id": message_id,
            }
        )
        return {"recipient_id": recipient_id, "message_id": message_id}

    def _messenger_profile(
        self, issued: IssuedToken, method: str, body: dict[str, Any], platform: str = ""
    ) -> dict[str, Any]:
        """Messenger's profile of the Page, or (`platform=instagram`) the Instagram account's,
        kept apart as Meta keeps them; a POST is checked against Meta's documented rules."""
        instagram = platform == "instagram"
        store = self.instagram_profiles if instagram else self.profiles
        profile = store.setdefault(issued.subject, {})
        if method == "GET":
            return {"data": [profile] if profile else []}
        if method == "DELETE":
            for name in body.get("fields") or []:
                profile.pop(name, None)
            return {"result": "success"}
        fields = {k: v for k, v in body.items() if k != "platform"}
        if not fields:
            raise GraphAnswer(100, "(#100) Requires one of the params: get_started, greeting, ice_breakers, ...")
        _check_profile(fields, instagram=instagram, has_get_started="get_started" in {**profile, **fields})
        profile.update(fields)
        return {"result": "success"}

    def _subscribed_apps(self, issued: IssuedToken, account_id: str, method: str, params: dict[str, Any]) -> Any:
        linked = (self.pages.get(issued.subject, {}).get("instagram_business_account") or {}).get("id")
        if account_id not in {"me", issued.subject, linked}:
            raise GraphAnswer(200, "(#200) The token cannot act for this account")
        account = issued.subject if account_id == "me" else account_id
        if method == "DELETE":
            self.subscriptions.pop(account, None)
            return {"success": True}
        if method == "GET":
            fields = self.subscriptions.get(account)
            return {"data": [{"id": self.app_id, "name": "ma5zani", "subscribed_fields": fields}] if fields else []}
        fields = [f for f in str(params.get("subscribed_fields") or "").split(",") if f]
        if not fields:
            raise GraphAnswer(100, "(#100) The parameter subscribed_fields is required")
        known = INSTAGRAM_FIELDS if issued.kind == "instagram" else PAGE_FIELDS
        unknown = [f for f in fields if f not in known]
        if unknown:
            raise GraphAnswer(100, f"(#100) Param subscribed_fields[0] must be one of {{{', '.join(sorted(known))}}}")
        self.subscriptions[account] = fields
        return {"success": True}

    def _comment_reply(self, issued: IssuedToken, comment_id: str, edge: str, text: str) -> dict[str, str]:
        if not text:
            raise GraphAnswer(100, "(#100) The parameter message is required")
        reply_id = f"{comment_id}_{len(self.comment_replies) + 1}"
        self.comment_replies.append(
            {"comment_id": comment_id, "edge": edge, "message": text, "sender": issued.subject, "id": reply_id}
        )
        return {"id": reply_id}


# The Messenger Profile API's rules (its reference pages): what Instagram accepts, the
# greeting's and the menu's lengths, four ice breakers, a default locale in each list.
INSTAGRAM_PROFILE_FIELDS = frozenset({"ice_breakers", "persistent_menu"})
GREETING_LIMIT = 160
MENU_TITLE_LIMIT = 30
MAX_ICE_BREAKERS = 4


def _check_profile(fields: dict[str, Any], *, instagram: bool, has_get_started: bool) -> None:
    if instagram and not set(fields) <= INSTAGRAM_PROFILE_FIELDS:
        unsupported = ", ".join(sorted(set(fields) - INSTAGRAM_PROFILE_FIELDS))
        raise GraphAnswer(100, f"(#100) Unsupported fields for the instagram platform: {unsupported}")
    for name in ("greeting", "ice_breakers", "persistent_menu"):
        entries = fields.get(name)
        if entries is None:
            continue
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise GraphAnswer(100, f"(#100) Param {name} must be an array of objects")
        if "default" not in {entry.get("locale") for entry in entries}:
            raise GraphAnswer(100, f"(#100) {name} must have a default locale")
    for entry in fields.get("greeting") or []:
        if len(str(entry.get("text") or "")) > GREETING_LIMIT:
            raise GraphAnswer(100, f"(#100) greeting text must be at most {GREETING_LIMIT} characters")
    for entry in fields.get("ice_breakers") or []:
        if not 0 < len(entry.get("call_to_actions") or []) <= MAX_ICE_BREAKERS:
            raise GraphAnswer(100, f"(#100) ice_breakers allows 1 to {MAX_ICE_BREAKERS} questions per locale")
    if fields.get("persistent_menu") and not instagram and not has_get_started:
        raise GraphAnswer(100, "(#100) You must set a Get Started button if you also wish to use persistent menu.")
    for entry in fields.get("persistent_menu") or []:
        if instagram and "composer_input_disabled" in entry:
            raise GraphAnswer(100, "(#100) composer_input_disabled is not available on instagram")
        for button in entry.get("call_to_actions") or []:
            if len(str(button.get("title") or "")) > MENU_TITLE_LIMIT:
                raise GraphAnswer(100, f"(#100) menu item titles must be at most {MENU_TITLE_LIMIT} characters")


def _check_message(message: dict[str, Any], text_limit: int) -> None:
    """Meta's limits on what a message holds (answered 100 as Meta does)."""
    if len(message.get("text") or "") > text_limit:
        raise GraphAnswer(100, f"(#100) Length of param message[text] must be less than or equal to {text_limit}")
    replies = message.get("quick_replies") or []
    if len(replies) > 13 or any(len(r.get("title") or "") > 20 for r in replies):
        raise GraphAnswer(100, "(#100) At most 13 quick replies, titles of at most 20 characters")
    payload = (message.get("attachment") or {}).get("payload") or {}
    elements = payload.get("elements") or []
    if len(elements) > 10:
        raise GraphAnswer(100, "(#100) param message[attachment][payload][elements] must have at most 10 elements")
    for element in elements:
        if len(element.get("title") or "") > 80 or len(element.get("subtitle") or "") > 80:
            raise GraphAnswer(100, "(#100) Element title and subtitle must be at most 80 characters")
        if len(element.get("buttons") or []) > 3:
            raise GraphAnswer(100, "(#100) An element has at most 3 buttons")


def only_fields(node: dict[str, Any], fields: str | None) -> dict[str, Any]:
    if not fields:
        return dict(node)
    wanted = {f.strip() for f in fields.split(",")} | {"id"}
    return {k: v for k, v in node.items() if k in wanted}
