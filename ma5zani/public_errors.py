"""Public endpoints never answer with Django's debug pages.

With DEBUG on (as under `make run`), an error on an endpoint that customers' browsers, other
sites or Meta reach — the widget API, webhooks, health, public files, the public API schema —
would answer with the technical page: the traceback, the settings and the URL patterns. There
such an answer becomes a short JSON error with the same status; the dashboard keeps the debug
pages a developer wants.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

PUBLIC_PREFIXES = ("/widget/", "/webhooks/", "/health/", "/media/", "/api/")
CODES = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed", 500: "server_error"}


class PublicErrorsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            settings.DEBUG
            and response.status_code >= 400
            and request.path.startswith(PUBLIC_PREFIXES)
            and response.get("Content-Type", "").startswith("text/html")
        ):
            status = response.status_code
            plain = JsonResponse({"code": CODES.get(status, "error"), "detail": response.reason_phrase}, status=status)
            for header in ("Access-Control-Allow-Origin", "Vary", "Allow"):
                if header in response:
                    plain[header] = response[header]
            return plain
        return response
