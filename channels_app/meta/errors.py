"""Meta's Graph API errors and what each means for the caller: `GraphError.kind` says whether
to retry (temporary), wait (rate_limited), wait for the customer to write again
(window_closed), stop writing to this person (unavailable), tell the seller their account may
not send (restricted), ask them to link it again (reconnect), or fix the request (invalid).

Also where secrets are masked: `redact` for error messages, and a filter on httpx's logger,
which logs every request's URL (the `access_token` parameter included) at INFO.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import json
import logging
import re
from collections.abc import Iterable
from typing import Any

import httpx

KINDS = ("temporary", "rate_limited", "window_closed", "unavailable", "restricted", "reconnect", "invalid")
RETRYABLE_KINDS = frozenset({"temporary", "rate_limited"})

# Meta's codes (Graph API and Messenger Platform error references). A subcode names one
# condition whatever code it comes with, so subcodes are matched first.
_RECONNECT_CODES = frozenset({102, 190})  # the session or token is gone: the seller links again
_RATE_LIMIT_CODES = frozenset({4, 9, 17, 32, 613, *range(80000, 80015)})  # app, user, page, BUC limits
_WINDOW_SUBCODES = frozenset({2018278, 2018065, 2018108, 2534022})  # outside the messaging window
_UNAVAILABLE_CODES = frozenset({230, 551})  # the person cannot receive messages from this account
_UNAVAILABLE_SUBCODES = frozenset({1545041, 2018001, 2534014})  # not available, no matching user
_RESTRICTED_SUBCODES = frozenset({1893063})  # the Page is restricted from messaging
_RESTRICTED_CODES = frozenset({10, 368, *range(200, 300)})  # permission denied, blocked for policy
_TEMPORARY_CODES = frozenset({1, 2, 1200})  # unknown, service unavailable, temporary send failure


def error_kind(code: int, subcode: int | None, status: int, *, transient: bool = False) -> str:
    """What a Graph error means for the caller (one of KINDS). `status` is the HTTP status (0:
    no answer); `transient` is Meta's `is_transient` flag."""
    if code in _RECONNECT_CODES:
        return "reconnect"
    if code in _RATE_LIMIT_CODES or status == 429:
        return "rate_limited"
    if subcode in _WINDOW_SUBCODES:
        return "window_closed"
    if subcode in _UNAVAILABLE_SUBCODES or code in _UNAVAILABLE_CODES:
        return "unavailable"
    if subcode in _RESTRICTED_SUBCODES or code in _RESTRICTED_CODES:
        return "restricted"
    if code in _TEMPORARY_CODES or status == 0 or status >= 500 or transient:
        return "temporary"
    return "invalid"


_SECRET_PARAM = re.compile(r"\b(access_token|client_secret|fb_exchange_token|input_token|code)=[^&\s\"']+")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with the given secrets and any token-like query parameter masked."""
    for secret in secrets:
        if len(secret) >= 6:  # a token, a secret, a code: never a short word of the message
            text = text.replace(secret, "***")
    return _SECRET_PARAM.sub(r"\1=***", text)


class _RedactSecrets(logging.Filter):
    """Masks tokens, secrets and codes in the log lines of httpx and httpcore."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


# httpx logs URLs at INFO; httpcore logs response headers (a redirect's Location) at DEBUG. A
# logger's filters see only its own records, so each logger that writes is named.
for _name in ("httpx", "httpcore.http11", "httpcore.http2", "httpcore.connection"):
    _logger = logging.getLogger(_name)
    if not any(isinstance(f, _RedactSecrets) for f in _logger.filters):
        _logger.addFilter(_RedactSecrets())


class GraphError(Exception):
    """A Graph API call that failed: Meta's error (`code`, `subcode`, `message`), the HTTP
    `status` (0 when nothing came back), `retry_after` seconds when Meta said how long to wait,
    and `kind` (one of KINDS). Pickles with its fields (Celery keeps task exceptions)."""

    def __init__(
        self,
        message: str,
        *,
        code: int = 0,
        subcode: int | None = None,
        status: int = 0,
        retry_after: float | None = None,
        kind: str | None = None,
        fbtrace_id: str = "",
        maybe_sent: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.subcode = subcode
        self.status = status
        self.retry_after = retry_after
        self.kind = kind or error_kind(code, subcode, status)
        self.fbtrace_id = fbtrace_id
        # No answer came back after the request was written (a read timeout, a reset): Meta may
        # have done it. A send must then not be repeated (Meta has no idempotency key).
        self.maybe_sent = maybe_sent

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE_KINDS

    def __str__(self) -> str:
        code = f"{self.code}/{self.subcode}" if self.subcode is not None else str(self.code)
        return f"{self.message} (code {code}, HTTP {self.status}, {self.kind})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _graph_error,
            (self.message, self.code, self.subcode, self.status, self.retry_after, self.kind, self.maybe_sent),
        )

    @classmethod
    def from_response(cls, response: httpx.Response, secrets: Iterable[str] = ()) -> GraphError:
        """The error of Meta's answer `{"error": {"message", "type", "code", "error_subcode",
        "fbtrace_id", "is_transient"}}`; a body that is not Meta's JSON (a proxy's 502) gives
        code 0 and its kind from the status."""
        error: Any = None
        with contextlib.suppress(ValueError, AttributeError):
            error = response.json().get("error")
        retry_after = _retry_after(response.headers)
        if error is None:
            error = _instagram_oauth_error(response)
        if not isinstance(error, dict):
            return cls(
                f"HTTP {response.status_code} without a Graph error",
                status=response.status_code,
                retry_after=retry_after,
            )
        code = int_or_none(error.get("code")) or 0
        subcode = int_or_none(error.get("error_subcode"))
        transient = error.get("is_transient") is True
        return cls(
            redact(str(error.get("message") or error.get("type") or "Graph error"), secrets),
            code=code,
            subcode=subcode,
            status=response.status_code,
            retry_after=retry_after,
            kind=error_kind(code, subcode, response.status_code, transient=transient),
            fbtrace_id=str(error.get("fbtrace_id") or ""),
        )


def _instagram_oauth_error(response: httpx.Response) -> dict[str, Any] | None:
    """api.instagram.com answers OAuth errors flat: {"error_type", "code", "error_message"}."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or "error_message" not in body:
        return None
    return {"message": body["error_message"], "type": body.get("error_type"), "code": body.get("code")}


def _graph_error(
    message: str,
    code: int,
    subcode: int | None,
    status: int,
    retry_after: float | None,
    kind: str,
    maybe_sent: bool = False,
) -> GraphError:
    return GraphError(
        message, code=code, subcode=subcode, status=status, retry_after=retry_after, kind=kind, maybe_sent=maybe_sent
    )


def int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def _retry_after(headers: httpx.Headers) -> float | None:
    """Seconds to wait: Retry-After (seconds or a date), else the longest
    `estimated_time_to_regain_access` (minutes) of Meta's usage headers."""
    value = headers.get("retry-after")
    if value:
        try:
            return max(float(value), 0.0)
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                when = None
            if when is not None and when.tzinfo is not None:
                return max((when - dt.datetime.now(dt.UTC)).total_seconds(), 0.0)
    minutes: list[float] = []
    for name in ("x-business-use-case-usage", "x-page-usage", "x-app-usage"):
        try:
            usage = json.loads(headers.get(name) or "null")
        except ValueError:
            continue
        entries = [usage] if isinstance(usage, dict) and "call_count" in usage else []
        if isinstance(usage, dict) and not entries:  # BUC: {object id: [usage, ...]}
            entries = [e for v in usage.values() if isinstance(v, list) for e in v if isinstance(e, dict)]
        minutes += [
            float(e["estimated_time_to_regain_access"])
            for e in entries
            if isinstance(e.get("estimated_time_to_regain_access"), int | float)
        ]
    return max(minutes) * 60 if minutes and max(minutes) > 0 else None
