"""Meta's webhook (Messenger, Instagram, Page and Instagram comments), on the platform's host.

GET answers Meta's verification (hub.challenge, with the configured verify token). POST is
verified with X-Hub-Signature-256 over the raw body before anything is parsed: a bad or missing
signature gets 403 and stores nothing. A verified delivery is stored through conversations'
services, then answered 200 at once; what takes longer (media, profiles, private replies to
comments, the bot's answers) is enqueued. A failure to store answers 500: Meta delivers again,
and a repeated delivery changes nothing.
"""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from channels_app.meta import events, inbound, signature, tasks

logger = logging.getLogger(__name__)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _verify_subscription(request)
    try:
        raw = request.body
    except RequestDataTooBig:
        return HttpResponse("too large", status=413, content_type="text/plain")
    if not signature.verify(raw, request.headers.get("X-Hub-Signature-256"), signature.configured_secrets()):
        logger.warning("Meta webhook with a bad or missing signature refused")
        return HttpResponse("bad signature", status=403, content_type="text/plain")
    try:
        delivery = events.parse(raw)
    except events.MalformedDelivery as exc:
        logger.warning("Signed Meta webhook that is no delivery: %s", exc)
        return HttpResponse("not a delivery", status=400, content_type="text/plain")
    handled = inbound.handle(delivery)
    tasks.enqueue_follow_ups(handled)
    if handled.failed_accounts:  # Meta delivers again; what was stored is not stored twice
        return HttpResponse("try again", status=500, content_type="text/plain")
    return HttpResponse("EVENT_RECEIVED", content_type="text/plain")


def _verify_subscription(request: HttpRequest) -> HttpResponse:
    mode = request.GET.get("hub.mode", "")
    token = request.GET.get("hub.verify_token", "")
    challenge = request.GET.get("hub.challenge", "")
    expected = settings.META_VERIFY_TOKEN
    if mode == "subscribe" and expected and hmac.compare_digest(token.encode(), expected.encode()) and challenge:
        return HttpResponse(challenge[:200], content_type="text/plain")
    return HttpResponse("forbidden", status=403, content_type="text/plain")
