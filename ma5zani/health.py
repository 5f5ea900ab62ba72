"""/health/ on the public site: database, Redis and a Celery worker, as JSON.

200 when every part answers; 503 naming the failing part(s) otherwise. Built on
django-health-check's checks; only the response shape is ours.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Generator
from typing import Any

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
        body = {"status": "error" if failing else "ok", "failing": failing, "checks": checks}
        return JsonResponse(body, status=503 if failing else 200)
