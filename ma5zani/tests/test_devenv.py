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


def test_restart_policy_backs_off_and_gives_up_after_five_restarts_within_the_window():
    devenv = load_devenv()
    now = [0.0]
    policy = devenv.RestartPolicy(restarts=5, window=600, backoff=1, clock=lambda: now[0])
    delays = []
    for _ in range(5):
        delays.append(policy.crashed())
        now[0] += 30
    assert delays == [1, 2, 4, 8, 16]
    assert policy.crashed() is None  # the sixth crash within ten minutes
    now[0] += 600  # long after: the earlier crashes no longer count
    assert policy.crashed() == 1


def test_a_crashed_process_is_restarted_and_one_that_keeps_crashing_stops_everything(tmp_path):
    """Under `make run`: a process that crashes twice then stays up is restarted; one that always
    crashes is given up after five restarts, which stops the others (which kept running until
    then). The commands wait on files, not on time."""
    import io
    import os

    devenv = load_devenv()
    procfile = tmp_path / "Procfile"
    procfile.write_text(
        'steady: echo started >> "$MARKS/steady"; trap \'echo stopped >> "$MARKS/steady"; exit 0\' TERM;'
        " while :; do sleep 0.1; done\n"
        'flaky: n=$(( $(cat "$MARKS/flaky" 2>/dev/null || echo 0) + 1 )); echo $n > "$MARKS/flaky";'
        ' [ $n -ge 3 ] || exit 1; touch "$MARKS/flaky-up"; while :; do sleep 0.1; done\n'
        'crasher: while [ ! -e "$MARKS/flaky-up" ]; do sleep 0.05; done; echo crash >> "$MARKS/crashes"; exit 3\n'
    )
    output = io.StringIO()
    code = devenv.run_procfile(
        procfile, {**os.environ, "MARKS": str(tmp_path)}, restarts=5, window=600, backoff=0.05, output=output
    )
    log = output.getvalue()
    assert code == 3, log
    assert (tmp_path / "crashes").read_text().count("crash") == 6, log  # the first run and five restarts
    assert (tmp_path / "flaky").read_text().strip() == "3"  # crashed twice, restarted, stayed up
    assert (tmp_path / "steady").read_text().split() == ["started", "stopped"]  # never restarted, ran to the end
    assert "CRASHED: flaky.1 exited with status 1; restarting it in 0.05 s (restart 1 of 5" in log
    assert "CRASHED: flaky.1 exited with status 1; restarting it in 0.1 s (restart 2 of 5" in log
    assert "CRASHED: crasher.1 exited with status 3; restarting it in 0.8 s (restart 5 of 5" in log
    assert "crasher.1 exited with status 3: it crashed 6 times within 600 s; giving up" in log
    assert "Stopped everything: crasher.1 exited with status 3: it crashed 6 times within 600 s." in log


def test_a_supervised_process_stopped_by_honcho_is_not_restarted(tmp_path):
    import signal
    import subprocess
    import sys

    from ma5zani.testing import wait_for

    marks = tmp_path / "starts"
    command = f'echo start >> "{marks}"; while :; do sleep 0.1; done'
    supervisor = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "devenv.py"), "supervise", "--name", "web.1", "--backoff", "0.05",
         "--", command]
    )  # fmt: skip
    try:
        wait_for(lambda: marks.exists(), 30, message="the supervised command")
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(30) == 128 + signal.SIGTERM
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
    assert marks.read_text().split() == ["start"]
