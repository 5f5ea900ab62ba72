"""/health/ on the public site: database, Redis and a Celery worker, as JSON.

200 when every part answers; 503 naming the failing part(s) otherwise. Built on
django-health-check's checks; only the response shape is ours. It also counts WhatsApp
sessions by state and the live gateways (a seller's session never makes the platform
unhealthy); `?details=1` with `Authorization: Bearer <HEALTH_TOKEN>` lists every session.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Generator
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from health_check.base import HealthCheck
from health_check.checks import Database
from health_check.contrib.celery import Ping
from health_check.contrib.redis import Redis
from health_check.views import HealthCheckView
from redis.asyncio import Redis as AsyncRedis

from ma5zani.celery import app as celery_app

CHECK_NAMES = {Database: "database", Redis: "redis", Ping: "celery"}


def _redis_client() -> AsyncRedis:
    return AsyncRedis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)


class HealthView(HealthCheckView):
    def get_checks(self) -> Generator[HealthCheck, None, None]:
        yield Database()
        yield Redis(client_factory=_redis_client)
        yield Ping(app=celery_app, timeout=dt.timedelta(seconds=2))

    async def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        with self.get_executor() as executor:
            self.results = await asyncio.gather(*(check.get_result(executor) for check in self.get_checks()))
        checks = {
            CHECK_NAMES.get(type(result.check), type(result.check).__name__.lower()): (
                "ok" if result.error is None else str(result.error)
            )
            for result in self.results
        }
        failing = sorted(name for name, state in checks.items() if state != "ok")
        body: dict[str, Any] = {"status": "error" if failing else "ok", "failing": failing, "checks": checks}
        details = request.GET.get("details") == "1" and _token_ok(request)
        try:
            body["whatsapp"] = await sync_to_async(whatsapp_health)(details=details)
        except Exception as exc:  # the database is down: the checks above say so
            body["whatsapp"] = {"error": str(exc)}
        return JsonResponse(body, status=503 if failing else 200)


def _token_ok(request: HttpRequest) -> bool:
    import hmac

    token = settings.HEALTH_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return bool(token) and hmac.compare_digest(given.encode(), token.encode())


def whatsapp_health(*, details: bool) -> dict[str, Any]:
    """Sessions by state and live gateways; with `details`, every session and every gateway."""
    from channels_app.models import Gateway, WhatsAppSession
    from channels_app.whatsapp.sessions import gateways_alive, sessions_by_state

    result: dict[str, Any] = {"sessions": sessions_by_state(), "gateways": gateways_alive()}
    if details:
        result["session_details"] = [
            {
                "seller": row.account.seller.slug,
                "state": row.state,
                "wanted": row.wanted,
                "gateway": row.lease_owner,
                "since": row.state_changed_at.isoformat() if row.state_changed_at else None,
                "connected_at": row.connected_at.isoformat() if row.connected_at else None,
                "reconnects": row.reconnects,
                "last_error": row.last_error,
            }
            for row in WhatsAppSession.objects.select_related("account__seller").order_by("pk")
        ]
        result["gateway_details"] = [
            {"name": g.name, "heartbeat_at": g.heartbeat_at.isoformat(), "metrics": g.metrics}
            for g in Gateway.objects.order_by("name")
        ]
    return result
