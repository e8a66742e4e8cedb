"""The one process-support module (mlflow_feast_mcp.demo.processes): a port left in TIME-WAIT by a
stopped server counts as free, and the stop policy ends a whole process group, escalating from
SIGINT to SIGTERM to SIGKILL within bounded waits."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import psutil

from mlflow_feast_mcp.demo import processes

SPAWNS_A_GRANDCHILD = """
import signal, subprocess, sys, time
if 'ignore-int' in sys.argv:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
if 'ignore-term' in sys.argv:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
GRANDCHILD = 'import os, signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); print(os.getpid(), flush=True); time.sleep(600)'
subprocess.Popen([sys.executable, '-c', GRANDCHILD])
time.sleep(600)
"""  # the grandchild prints its pid once it ignores SIGINT


def _time_wait_port() -> int:
    """A port whose listener (SO_REUSEADDR, as uvicorn's) is closed and whose accepted connection
    sits in TIME-WAIT."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    accepted.close()  # the server side closes first: its end goes to TIME-WAIT
    client.close()
    server.close()
    return port


def test_time_wait_does_not_count_as_busy_but_a_listener_does():
    port = _time_wait_port()
    states = {c.status for c in psutil.net_connections(kind="tcp") if c.laddr and c.laddr.port == port}
    assert "TIME_WAIT" in states, states
    with socket.socket() as plain:  # what the demo used to do: refused while TIME-WAIT lasts
        try:
            plain.bind(("127.0.0.1", port))
            plain_bind_ok = True
        except OSError:
            plain_bind_ok = False
    assert not plain_bind_ok
    assert processes.port_is_free(port)
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen()
        assert not processes.port_is_free(port)


def _start(tmp_path, *flags: str) -> tuple[subprocess.Popen, int]:
    log = tmp_path / "child.log"
    proc = processes.start_process([sys.executable, "-c", SPAWNS_A_GRANDCHILD, *flags], log=log)
    deadline = time.monotonic() + 30
    while not log.read_text().strip():
        assert time.monotonic() < deadline and proc.poll() is None, log.read_text()
        time.sleep(0.05)
    return proc, int(log.read_text().split()[0])


def test_sigint_stops_the_group_including_a_grandchild_that_ignores_it(tmp_path):
    proc, grandchild = _start(tmp_path)
    started = time.monotonic()
    processes.stop_process(proc, waits=(2.0, 2.0, 2.0))
    assert proc.returncode is not None
    assert not psutil.pid_exists(grandchild) or psutil.Process(grandchild).status() == psutil.STATUS_ZOMBIE
    # the leader died of SIGINT at once; the grandchild, ignoring it, needed the SIGTERM round
    assert 2.0 <= time.monotonic() - started < 5.0


def test_escalates_to_sigkill_within_the_bounds(tmp_path):
    proc, grandchild = _start(tmp_path, "ignore-int", "ignore-term")
    started = time.monotonic()
    processes.stop_process(proc, waits=(0.5, 0.5, 5.0))
    took = time.monotonic() - started
    assert proc.returncode == -9
    assert not psutil.pid_exists(grandchild) or psutil.Process(grandchild).status() == psutil.STATUS_ZOMBIE
    assert 1.0 <= took < 5.0


def test_wait_http_fails_early_when_the_process_exits():
    proc = processes.start_process([sys.executable, "-c", "raise SystemExit(3)"])
    started = time.monotonic()
    try:
        processes.wait_http(f"http://127.0.0.1:{processes.free_port()}/health", timeout=30, proc=proc)
    except RuntimeError as exc:
        assert "code 3" in str(exc)
    else:
        raise AssertionError("wait_http returned for a dead process")
    assert time.monotonic() - started < 10
    processes.stop_process(proc)
