"""The deploy script: clean under shellcheck, and its dry run says what a deploy does, in order."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from ma5zani.testing import ROOT

SCRIPT = ROOT / "deploy" / "deploy.sh"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=30, check=False)


def test_the_deploy_script_passes_shellcheck():
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is missing (.ci/run installs Debian's shellcheck package)"
    result = subprocess.run([shellcheck, "--severity=style", str(SCRIPT)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


def test_a_dry_run_prints_every_step_and_runs_nothing(tmp_path: Path):
    result = run(
        "--dry-run", "--ref", "v2.0", "--roles", "web,worker,replies,beat,whatsapp", "--gateways", "2", "app1", "app2"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    commands = [line for line in lines if line.startswith("[dry-run] ssh ")]
    assert all(" ssh app1 " in line or " ssh app2 " in line for line in commands)
    app1 = [line.removeprefix("[dry-run] ssh app1 ") for line in commands if " ssh app1 " in line]
    app2 = [line.removeprefix("[dry-run] ssh app2 ") for line in commands if " ssh app2 " in line]
    order = ["git clone", "pip install", "migrate_schemas", "collectstatic", "compilemessages", "ln -sfn",
             "restart ma5zani-web", "restart ma5zani-worker", "restart ma5zani-replies", "restart ma5zani-beat",
             "restart ma5zani-whatsapp@1", "restart ma5zani-whatsapp@2", "/health/"]  # fmt: skip
    positions = [next(i for i, line in enumerate(app1) if step in line) for step in order]
    assert positions == sorted(positions)
    assert "--branch 'v2.0'" in app1[0]
    assert not any("migrate_schemas" in line for line in app2)  # migrations run once, on the first host
    assert any("restart ma5zani-whatsapp@2" in line for line in app2)


def test_bad_arguments_are_refused_with_usage():
    assert run("--dry-run").returncode == 2  # no host
    assert run("--dry-run", "--bogus", "app1").returncode == 2
    refused = run("--dry-run", "--gateways", "two", "app1")
    assert refused.returncode == 2 and "--gateways must be a number" in refused.stderr
