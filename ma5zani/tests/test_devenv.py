"""The launcher behind `make run` and `make test` starts and stops the embedded servers."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from urllib.parse import unquote

import environ
import psycopg
import pytest
import redis

ROOT = Path(__file__).resolve().parents[2]


def load_devenv():
    spec = importlib.util.spec_from_file_location("devenv", ROOT / "scripts" / "devenv.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_embedded_postgres_and_redis_start_answer_and_stop(tmp_path, monkeypatch):
    devenv = load_devenv()
    monkeypatch.setattr(devenv, "DATA", tmp_path / "data")
    servers = devenv.EmbeddedServers()
    env: dict[str, str] = {}
    try:
        servers.start(env)
        config = environ.Env().db_url_config(env["DATABASE_URL"])
        with psycopg.connect(
            host=unquote(config["HOST"]), port=config["PORT"] or None, user=config["USER"], dbname=config["NAME"]
        ) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("ma5zani",)
            extensions = {row[0] for row in conn.execute("SELECT name FROM pg_available_extensions")}
            assert {"pg_trgm", "btree_gist"} <= extensions
        client = redis.Redis.from_url(env["REDIS_URL"])
        assert client.ping()
        client.set("k", "v")
    finally:
        servers.stop()
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(env["REDIS_URL"], socket_connect_timeout=1).ping()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(
            host=unquote(config["HOST"]),
            port=config["PORT"] or None,
            user="postgres",
            dbname="ma5zani",
            connect_timeout=2,
        )


def test_configured_servers_are_used_as_they_are(monkeypatch, tmp_path):
    devenv = load_devenv()
    monkeypatch.setattr(devenv, "DATA", tmp_path / "data")
    env = {"DATABASE_URL": "postgres://db.example/x", "REDIS_URL": "redis://cache.example/0"}
    servers = devenv.EmbeddedServers()
    servers.start(env)
    assert env == {"DATABASE_URL": "postgres://db.example/x", "REDIS_URL": "redis://cache.example/0"}
    assert servers.pg is None and servers.redis is None
