"""Child processes for the demo, the tests and the benchmarks: free loopback ports, waiting for an
HTTP endpoint, `mlflow server`, and one stop policy for everything started here.

The stop policy: SIGINT to the child's process group first (`mlflow server` forwards it to its
uvicorn worker and stops at once, while SIGTERM waits for the workers' graceful timeout), then
SIGTERM, then SIGKILL, each followed by a bounded wait. Children start in their own session so the
group holds the child and everything it spawned, and nothing else.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

LOOPBACK = "127.0.0.1"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)
STOP_WAITS = (8.0, 5.0, 5.0)  # seconds after each signal
# `mlflow server` starts a job runner (four huey consumers, each importing mlflow) unless told not
# to: nothing here runs MLflow jobs, and on a 2-core machine they slow every start-up. Telemetry
# off: nothing leaves loopback (and its flush at exit delays the stop).
MLFLOW_SERVER_ENV = {
    "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    "MLFLOW_ENABLE_WORKSPACES": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
}

_started: list[subprocess.Popen] = []


# ---------------------------------------------------------------------------------------------
# Ports and readiness


def free_port(host: str = LOOPBACK) -> int:
    """A port the OS just handed out on `host` (free now; another process may take it later)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """Whether a server could listen on `port` now. SO_REUSEADDR, as every server sets it, so the
    TIME-WAIT connections a stopped server leaves behind do not count as busy."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def wait_http(url: str, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    """Wait until `url` answers with any status below 500; fail early if `proc` exits."""
    import httpx

    deadline = time.monotonic() + timeout
    last: Exception | None = None
    with httpx.Client(timeout=2.0, trust_env=False) as client:  # loopback: never through a proxy
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"process exited with code {proc.returncode} before {url} answered")
            try:
                if client.get(url).status_code < 500:
                    return
            except httpx.HTTPError as exc:
                last = exc
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s ({last})")


# ---------------------------------------------------------------------------------------------
# Starting and stopping


def start_process(
    command: Sequence[str],
    *,
    log: Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen:
    """Start `command` in its own session (stdout and stderr to `log`, else discarded); it is
    stopped at interpreter exit if nobody stopped it before."""
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(open(log, "ab")) if log is not None else subprocess.DEVNULL
        proc = subprocess.Popen(
            list(command),
            stdout=out,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
    _started.append(proc)
    return proc


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _gone(proc: subprocess.Popen, group: int | None, wait: float) -> bool:
    deadline = time.monotonic() + wait
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(max(0.0, wait))
    while group is not None and _group_alive(group) and time.monotonic() < deadline:
        time.sleep(0.05)  # the leader is gone; wait for what it spawned
    return proc.poll() is not None and (group is None or not _group_alive(group))


def stop_process(proc: subprocess.Popen | None, waits: tuple[float, float, float] = STOP_WAITS) -> None:
    """Stop `proc` and its process group: SIGINT, then SIGTERM, then SIGKILL, moving on when the
    group outlives `waits[i]` seconds after signal i."""
    if proc is None:
        return
    with contextlib.suppress(ValueError):
        _started.remove(proc)
    try:
        group: int | None = proc.pid if os.getpgid(proc.pid) == proc.pid else None
    except ProcessLookupError:
        group = proc.pid if _group_alive(proc.pid) else None
    if group == os.getpgrp():
        group = None  # never signal our own group
    for signum, wait in zip(STOP_SIGNALS, waits, strict=True):
        if proc.poll() is not None and (group is None or not _group_alive(group)):
            break
        try:
            if group is not None:
                os.killpg(group, signum)
            else:
                proc.send_signal(signum)
        except (ProcessLookupError, PermissionError):
            pass
        if _gone(proc, group, wait):
            break


@atexit.register
def _stop_leftovers() -> None:
    for proc in list(_started):
        stop_process(proc)


@contextlib.contextmanager
def running(
    command: Sequence[str],
    *,
    ready_url: str | None = None,
    timeout: float = 60.0,
    log: Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Iterator[subprocess.Popen]:
    """`command` running for the block (ready once `ready_url` answers), then stopped."""
    proc = start_process(command, log=log, env=env, cwd=cwd)
    try:
        if ready_url is not None:
            wait_http(ready_url, timeout, proc)
        yield proc
    finally:
        stop_process(proc)


# ---------------------------------------------------------------------------------------------
# mlflow server


def mlflow_server_command(
    port: int,
    backend_uri: str,
    *,
    artifacts_destination: Path | None = None,
    default_artifact_root: str | None = None,
    host: str = LOOPBACK,
) -> list[str]:
    """`mlflow server` on host:port with one worker: served artifacts in `artifacts_destination`,
    or (with `default_artifact_root`) artifacts the clients read and write themselves."""
    mlflow_bin = Path(sys.executable).with_name("mlflow")
    artifacts = (
        ["--no-serve-artifacts", "--default-artifact-root", default_artifact_root]
        if default_artifact_root
        else ["--artifacts-destination", str(artifacts_destination)]
    )
    return [
        str(mlflow_bin) if mlflow_bin.exists() else "mlflow",
        "server",
        "--backend-store-uri",
        backend_uri,
        *artifacts,
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        "1",
    ]


def mlflow_server_env() -> dict[str, str]:
    env = {**os.environ, **MLFLOW_SERVER_ENV, "PYTHONUNBUFFERED": "1"}
    env.pop("MLFLOW_TRACKING_URI", None)
    return env


def start_mlflow_server(
    port: int,
    backend_uri: str,
    *,
    log: Path,
    artifacts_destination: Path | None = None,
    default_artifact_root: str | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen:
    """Start `mlflow server` (not waiting for it: `wait_http(f"{url}/health", ...)`)."""
    if artifacts_destination is not None:
        artifacts_destination.mkdir(parents=True, exist_ok=True)
    command = mlflow_server_command(
        port,
        backend_uri,
        artifacts_destination=artifacts_destination,
        default_artifact_root=default_artifact_root,
    )
    return start_process(command, log=log, env=mlflow_server_env(), cwd=cwd)
