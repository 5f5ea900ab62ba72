"""Public endpoints and the public site never answer with Django's debug pages.

With DEBUG on (as under `make run`), an error on a page that customers' browsers, other sites or
Meta reach would answer with the technical page: the traceback, the settings and the URL
patterns. There such an answer becomes the product's own error page instead — a short JSON error
with the same status on the machine endpoints (the widget API, webhooks, health, public files,
the API schema, on any host), the ordinary error page elsewhere on the public site. Sellers'
dashboards keep the debug pages a developer wants.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django_tenants.utils import get_public_schema_name

logger = logging.getLogger(__name__)

PUBLIC_PREFIXES = ("/widget/", "/webhooks/", "/health/", "/media/", "/api/")
CODES = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed", 500: "server_error"}


def _on_public_site(request: HttpRequest) -> bool:
    tenant = getattr(request, "tenant", None)
    return tenant is None or tenant.schema_name == get_public_schema_name()


def _error_page(request: HttpRequest, status: int) -> HttpResponse:
    try:
        if status == 404:
            return defaults.page_not_found(request, Exception())
        if status == 403:
            return defaults.permission_denied(request, Exception())
        if status == 400:
            return defaults.bad_request(request, Exception())
        return defaults.server_error(request)
    except Exception:  # the error page itself failed: plain text, never the debug page
        logger.exception("The error page could not be rendered")
        return HttpResponse(CODES.get(status, "error"), status=status, content_type="text/plain")


class PublicErrorsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not (settings.DEBUG and response.status_code >= 400):
            return response
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        status = response.status_code
        if request.path.startswith(PUBLIC_PREFIXES):
            plain: HttpResponse = JsonResponse(
                {"code": CODES.get(status, "error"), "detail": response.reason_phrase}, status=status
            )
        elif _on_public_site(request) and status in (400, 403, 404, 500):
            plain = _error_page(request, status)
            plain.status_code = status
        else:
            return response
        for header in ("Access-Control-Allow-Origin", "Vary", "Allow"):
            if header in response:
                plain[header] = response[header]
        return plain
