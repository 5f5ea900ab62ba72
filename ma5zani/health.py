"""/health/ on the public site: database, Redis and the Celery workers, as JSON (readiness).

200 when every part answers; 503 naming the failing part(s) otherwise. Built on
django-health-check's checks; only the response shape is ours. The workers are read from their
heartbeats (ma5zani.heartbeat: one Redis read, every queue consumed by a worker seen in the last
WORKER_HEARTBEAT_STALE_SECONDS), never pinged, so the answer comes in milliseconds. It also counts
WhatsApp sessions by state and the live gateways (a seller's session never makes the platform
unhealthy); `?details=1` with `Authorization: Bearer <HEALTH_TOKEN>` lists every session.

/health/live/ (liveness) answers 200 as long as the process serves requests, touching nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Generator
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from health_check.base import HealthCheck
from health_check.checks import Database
from health_check.contrib.redis import Redis
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView
from redis.asyncio import Redis as AsyncRedis
from redis.exceptions import RedisError

from ma5zani.celery import Queue
from ma5zani.heartbeat import heartbeat_key, workers_alive


def _redis_client() -> AsyncRedis:
    timeout = settings.HEALTH_REDIS_TIMEOUT_SECONDS
    return AsyncRedis.from_url(settings.REDIS_URL, socket_connect_timeout=timeout, socket_timeout=timeout)


@dataclasses.dataclass
class Workers(HealthCheck):
    """Every queue is consumed by a worker whose heartbeat is recent, and a reply runner is alive."""

    async def run(self) -> None:
        client = _redis_client()
        try:
            beats = await client.hgetall(heartbeat_key())
        except RedisError as exc:
            raise ServiceUnavailable("Unable to read the workers' heartbeats") from exc
        finally:
            await client.aclose()
        alive = workers_alive(beats)
        if not alive:
            raise ServiceUnavailable(f"No worker heartbeat in the last {settings.WORKER_HEARTBEAT_STALE_SECONDS:g} s")
        wanted = {q.value for q in Queue}
        if settings.REPLY_RUNNER == "async":
            wanted.add("reply-runner")  # replies.runner.RUNNER_QUEUE: a reply runner answers
        missing = sorted(wanted - {q for queues in alive.values() for q in queues})
        if missing:
            raise ServiceUnavailable(f"No live worker consumes {', '.join(missing)}")


CHECK_NAMES = {Database: "database", Redis: "redis", Workers: "celery"}


def live(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Readiness (what it depends on) is /health/."""
    return JsonResponse({"status": "ok"})


class HealthView(HealthCheckView):
    def get_checks(self) -> Generator[HealthCheck, None, None]:
        yield Database()
        yield Redis(client_factory=_redis_client)
        yield Workers()

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
