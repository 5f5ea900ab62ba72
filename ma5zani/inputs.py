"""Input from outside, checked once for every boundary: text that PostgreSQL or UTF-8 cannot hold,
integers written strictly, JSON of a bounded size and depth.

- Text: a NUL character (PostgreSQL refuses it in text and JSON) or a lone surrogate (a Python
  string can hold one, UTF-8 cannot encode it) is refused, never stripped: what is stored is
  what was sent.
- Integers from a query string or a form: ASCII digits only ("²" and "٣" are digits to
  `str.isdigit()`, and `int()` accepts the second), at most 18 of them (below 2**63).
- JSON: `json_loads` refuses bodies nested deeper than `MAX_JSON_DEPTH` (Python's parser raises
  RecursionError near 1,000 levels), non-finite numbers (NaN, 1e400) and unclean text in any key
  or value. `JSONParser` is the REST framework's parser built on it.
- `InputGuardMiddleware` answers 400 to a path, query string, form field or file name holding a
  NUL, before any view reads it, and drops cookies holding one.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse, QueryDict
from django.utils import translation
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

BAD_CHARACTERS = re.compile("[\x00\ud800-\udfff]")
ASCII_INTEGER = re.compile(r"[0-9]{1,18}")
MAX_INTEGER = 2**63 - 1
MAX_JSON_DEPTH = 32


class InputError(ValueError):
    """Input refused at a boundary, with a short code a client can act on."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def text_is_clean(value: str) -> bool:
    """No NUL and no lone surrogate: the text can be encoded as UTF-8 and stored."""
    return BAD_CHARACTERS.search(value) is None


def bad_text_message() -> str:
    return _("The text holds a character that cannot be stored (a NUL character or a broken Unicode sequence).")


def strict_int(value: Any, *, maximum: int = MAX_INTEGER) -> int | None:
    """A non-negative integer written with ASCII digits (or given as a JSON integer), up to
    `maximum`; None for anything else (booleans, "²", "٣", "-1", "1e400", "1.5", " 1")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and ASCII_INTEGER.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if 0 <= number <= maximum else None


def _refuse_constant(name: str) -> Any:
    raise InputError("malformed", f"{name} is not a JSON number.")


def _check_parsed(value: Any, max_depth: int) -> None:
    """Walk the parsed document without recursion: depth, text and numbers."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if not text_is_clean(node):
                raise InputError("bad_text", bad_text_message())
        elif isinstance(node, float):
            if not math.isfinite(node):
                raise InputError("malformed", "Numbers must be finite.")
        elif isinstance(node, dict | list):
            if depth > max_depth:
                raise InputError("too_deep", f"JSON is limited to {max_depth} levels of nesting.")
            if isinstance(node, dict):
                for key, item in node.items():
                    stack.append((key, depth))
                    stack.append((item, depth + 1))
            else:
                stack.extend((item, depth + 1) for item in node)


def json_loads(data: str | bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse JSON from outside; InputError ("malformed", "too_deep", "bad_text") otherwise."""
    try:
        value = json.loads(data, parse_constant=_refuse_constant)
    except RecursionError as exc:
        raise InputError("too_deep", f"JSON is limited to {max_depth} levels of nesting.") from exc
    except InputError:
        raise
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, integers of over 4,300 digits
        raise InputError("malformed", "The body is not JSON.") from exc
    _check_parsed(value, max_depth)
    return value


class JSONParser(parsers.JSONParser):
    """The REST framework's JSON parser on `json_loads`, with the size limit of form bodies."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = b"" if stream is None else stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise ParseError(_("The request body is too large."), code="too_large")
        try:
            return json_loads(raw)  # JSON is UTF-8 (RFC 8259); bytes that are not: malformed
        except InputError as exc:
            raise ParseError(exc.detail, code=exc.code) from exc


def _querydict_is_clean(data: QueryDict) -> bool:
    return all(text_is_clean(key) and all(text_is_clean(v) for v in values) for key, values in data.lists())


def request_is_clean(request: HttpRequest) -> bool:
    if not text_is_clean(request.path) or not _querydict_is_clean(request.GET):
        return False
    if request.method != "POST":
        return True
    if not _querydict_is_clean(request.POST):
        return False
    return all(
        text_is_clean(name) and all(text_is_clean(upload.name or "") for upload in uploads)
        for name, uploads in request.FILES.lists()
    )


def bad_input_response(request: HttpRequest) -> HttpResponse:
    with translation.override(translation.get_language_from_request(request)):
        detail = bad_text_message()
    if request.path.startswith(("/api/", "/widget/")) or "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"code": "bad_text", "detail": detail}, status=400)
    return HttpResponseBadRequest(detail, content_type="text/plain; charset=utf-8")


class InputGuardMiddleware:
    """400 for a request whose path, query string, form fields or file names hold a NUL (or a
    lone surrogate): no view, form or query ever sees one. Placed before the session middleware,
    so that a cookie holding one is dropped before the session is looked up with it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        for name, value in list(request.COOKIES.items()):
            if not (text_is_clean(name) and text_is_clean(value)):
                del request.COOKIES[name]
        if not request_is_clean(request):
            return bad_input_response(request)
        return self.get_response(request)
