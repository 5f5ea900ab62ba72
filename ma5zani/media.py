"""Serving a seller's uploaded files (MEDIA_ROOT/<schema>/…) by one rule.

A path from a URL is decided on in its normalised form, never as written: Django has already
percent-decoded it (`%2e%2e`, `..%2f`), so the rule refuses any path that is not already
canonical — an empty, `.` or `..` segment, a backslash, a NUL or another control character, a
leading slash — instead of resolving it. What is left names exactly one file under the seller's
folder, and its first segment says who may read it: `products/` (product images, which customers
see in the chat) is public, everything else (catalog imports, conversation media) is for the
seller's members only.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.views.static import serve

PUBLIC_FOLDERS = frozenset({"products"})


def media_path_parts(path: str) -> tuple[str, ...]:
    """The segments of a canonical relative path; Http404 for anything else."""
    if not path or path.startswith("/") or "\\" in path or any(ord(ch) < 32 or ord(ch) == 127 for ch in path):
        raise Http404
    parts = tuple(path.split("/"))
    if any(part in ("", ".", "..") for part in parts):
        raise Http404
    return parts


def media_is_public(parts: tuple[str, ...]) -> bool:
    return len(parts) > 1 and parts[0] in PUBLIC_FOLDERS


def media_serve(request: HttpRequest, *, schema: str, parts: tuple[str, ...]) -> HttpResponse | FileResponse:
    """Serve MEDIA_ROOT/<schema>/<parts> (the parts come from media_path_parts)."""
    if not schema or media_path_parts(schema) != (schema,):
        raise Http404
    return serve(request, "/".join(parts), document_root=str(Path(settings.MEDIA_ROOT) / schema))
