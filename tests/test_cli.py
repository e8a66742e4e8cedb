"""The console script: `check` tells what the server would see and fails loudly on problems."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

CLI = str(Path(sys.executable).with_name("mlflow-feast-mcp"))


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=timeout)


def test_check_reports_mlflow_facts_and_a_missing_feast_repo(world, tmp_path):
    result = run("check", "--tracking-uri", world.uri, "--feast-repo", str(tmp_path / "missing"))
    assert re.search(r"MLflow reachable: \d+ experiments?", result.stdout), result.stdout
    assert "default experiment 'nba_game_winner_prediction': 6 runs" in result.stdout
    assert re.search(r"registered models: \d+", result.stdout)
    assert "FAIL" in result.stdout and str(tmp_path / "missing") in result.stdout
    assert result.returncode == 1 and result.stdout.rstrip().endswith("\n1 problem"), result.stdout
    assert not (tmp_path / "missing").exists(), "check must not create a Feast repo or registry"


def test_check_fails_fast_when_mlflow_is_down(tmp_path):
    started = time.monotonic()
    result = run("check", "--tracking-uri", "http://127.0.0.1:9", "--feast-repo", str(tmp_path))
    assert time.monotonic() - started < 60
    assert result.returncode == 1
    assert "MLflow at http://127.0.0.1:9 is unreachable" in result.stdout


def test_help_lists_the_commands():
    result = run("--help")
    assert result.returncode == 0
    for command in ("serve", "check"):
        assert command in result.stdout


@pytest.mark.slow
def test_example_repo_gives_check_a_working_feast_repo(world, tmp_path):
    """`example-repo DIR` (here through its module, until the CLI registers it) copies the bundled
    repo outside site-packages and applies it: `check` then finds the registry, and a second run
    refuses to overwrite it without --force."""
    repo = tmp_path / "feature_repo"
    example = [sys.executable, "-m", "mlflow_feast_mcp.demo.example_repo"]
    made = subprocess.run([*example, str(repo)], capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stdout + made.stderr
    assert f"FEAST_REPO_PATH={repo}" in made.stdout
    assert (repo / "data" / "registry.db").is_file() and (repo / "data" / "labels.parquet").is_file()
    checked = run("check", "--tracking-uri", world.uri, "--feast-repo", str(repo))
    assert "ok    Feast registry loaded: project nba_analytics" in checked.stdout, checked.stdout
    assert checked.returncode == 0 and checked.stdout.rstrip().endswith("all good"), checked.stdout
    again = subprocess.run([*example, str(repo)], capture_output=True, text=True, timeout=60)
    assert again.returncode == 2 and "--force" in again.stdout
