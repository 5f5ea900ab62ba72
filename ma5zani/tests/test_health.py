"""/health/: database, Redis, a Celery worker and a reply runner; 503 naming what fails."""

from __future__ import annotations

import socket

from celery.contrib.testing.worker import start_worker
from django.test import Client

from ma5zani.celery import app as celery_app
from ma5zani.testing import committed_db

pytestmark = committed_db


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def health() -> tuple[int, dict]:
    response = Client(HTTP_HOST="localhost").get("/health/")
    return response.status_code, response.json()


def test_health_is_200_when_database_redis_a_worker_and_a_reply_runner_answer(drop_new_sellers):
    from replies.testing import running

    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10), running():
        status, body = health()
    assert status == 200, body
    assert body["status"] == "ok" and body["failing"] == []
    assert body["checks"] == {"database": "ok", "redis": "ok", "celery": "ok"}
    assert body["whatsapp"] == {"sessions": {}, "gateways": 0}


def test_health_is_503_naming_celery_when_the_workers_answer_but_no_reply_runner(drop_new_sellers):
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        status, body = health()
    assert status == 503 and body["failing"] == ["celery"]
    assert body["checks"]["celery"] == "Unavailable: No live worker consumes reply-runner"


def test_health_is_503_naming_celery_when_no_worker_answers(drop_new_sellers):
    status, body = health()
    assert status == 503
    assert body["failing"] == ["celery"]
    assert body["checks"]["database"] == "ok" and body["checks"]["redis"] == "ok"


def test_health_names_celery_when_a_queue_has_no_live_worker(drop_new_sellers):
    import json
    import time

    import redis
    from django.conf import settings

    from ma5zani.heartbeat import heartbeat_key

    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        # A worker that consumes only the replies queue, and one whose heartbeat is old.
        client.hset(heartbeat_key(), "replies-only@test", json.dumps({"at": time.time(), "queues": ["replies"]}))
        client.hset(heartbeat_key(), "gone@test", json.dumps({"at": time.time() - 3600, "queues": ["default"]}))
        status, body = health()
        assert status == 503 and body["failing"] == ["celery"]
        assert "default" in body["checks"]["celery"] and "delivery" in body["checks"]["celery"]
    finally:
        client.delete(heartbeat_key())


def test_readiness_waits_on_nothing_and_liveness_touches_nothing(drop_new_sellers, settings):
    # With no worker at all, the answer does not wait out a ping: the heartbeats are read once.
    # (Timing is the benchmark's business; here: no ping is ever sent.)
    from ma5zani.celery import app

    sent = []
    original = app.control.ping

    def ping(*args, **kwargs):
        sent.append(1)
        return original(*args, **kwargs)

    app.control.ping = ping
    try:
        status, _ = health()
    finally:
        app.control.ping = original
    assert status == 503 and sent == []
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"
    response = Client(HTTP_HOST="localhost").get("/health/live/")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_health_is_503_naming_redis_when_redis_is_unreachable(drop_new_sellers, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"
    status, body = health()
    assert status == 503
    assert "redis" in body["failing"]
    assert "Unable to connect to Redis" in body["checks"]["redis"]
    assert body["checks"]["database"] == "ok"


def test_health_is_only_on_the_public_site(shop_a):
    assert shop_a.client().get("/health/").status_code == 404
