"""Faults while serving, each against a real MLflow server process of this module (not the session one):
MLflow stopped mid-session and restarted on the same port, MLflow frozen, MLflow answering slower than
the timeout (a delaying loopback proxy), the MlflowClient backend against a dead server, and the Feast
registry deleted, corrupted or re-applied while serving. One MCP client session lives through each
fault: the server is never restarted."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from support.calls import Answer, call
from support.servers import MlflowServer, free_port

pytestmark = pytest.mark.anyio

EXPERIMENT = "nba_game_winner_prediction"
MODEL = "game_winner_model"
FEATURES = ["home_elo", "away_elo", "elo_diff", "rest_days_home", "rest_days_away"]
FAIL_WITHIN = 10.0  # seconds, per call, with the default settings (DESIGN: "fails in seconds")
TIMINGS: dict[str, float] = {}


@dataclass
class Small:
    server: MlflowServer
    runs: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Small]:
    """A real MLflow server with a small history in the seed's conventions."""
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    root = tmp_path_factory.mktemp("mlflow-faults")
    server = MlflowServer(root).start()
    world = Small(server)
    client = MlflowClient(tracking_uri=server.uri, registry_uri=server.uri)
    exp = client.create_experiment(EXPERIMENT)
    for i, algorithm in enumerate(("logistic_regression", "gradient_boosting")):
        run = client.create_run(exp, run_name=f"run_{i}")
        rid = run.info.run_id
        now = int(time.time() * 1000)
        client.log_batch(
            rid,
            metrics=[Metric("test_accuracy", 0.6 + i / 100, now, 0), Metric("val_loss", 0.5, now, 1)],
            params=[
                Param("algorithm", algorithm),
                Param("model_version", f"v{i + 1}.0"),
                Param("feature_count", str(len(FEATURES))),
                Param("features_part0", ",".join(FEATURES)),
            ],
        )
        local = root / "src" / rid / "features.json"
        local.parent.mkdir(parents=True)
        local.write_text(json.dumps(FEATURES))
        client.log_artifact(rid, str(local), "training_artifacts")
        client.set_terminated(rid, "FINISHED")
        world.runs.append(rid)
        time.sleep(0.02)
    client.create_registered_model(MODEL)
    mv = client.create_model_version(MODEL, f"runs:/{world.runs[1]}/model", run_id=world.runs[1])
    client.set_registered_model_alias(MODEL, "champion", mv.version)
    yield world
    server.stop()


def mlflow_calls(small: Small) -> dict[str, dict]:
    """Valid arguments for every tool that reads MLflow."""
    first, second = small.runs
    return {
        "mlflow_list_experiments": {},
        "mlflow_search_runs": {},
        "mlflow_get_run": {"run_id": second},
        "mlflow_get_run_features": {"run_id": second},
        "mlflow_compare_runs": {"run_ids": [first, second]},
        "mlflow_get_metric_history": {"run_ids": [second], "metric_keys": ["val_loss"]},
        "mlflow_describe_experiment": {},
        "mlflow_list_artifacts": {"run_id": second},
        "mlflow_read_artifact": {"run_id": second, "path": "training_artifacts/features.json"},
        "mlflow_list_registered_models": {},
        "mlflow_get_registered_model": {},
        "mlflow_get_model_version": {"version_ref": "champion"},
        "check_feature_alignment": {"run_or_model": second},
        "validate_training_run": {"run_id": second},
        "mlflow_search_logged_models": {},
    }


def open_client(settings):
    from mcp import Client

    from mlflow_feast_mcp.server.app import build_server

    return Client(build_server(settings))


async def timed(client, tool: str, args: dict) -> tuple[Answer, float]:
    start = time.monotonic()
    with anyio_fail_after(60):
        answer = await call(client, tool, **args)
    return answer, time.monotonic() - start


def anyio_fail_after(seconds: float):
    import anyio

    return anyio.fail_after(seconds)


async def tool_names(client) -> set[str]:
    return {t.name for t in (await client.list_tools()).tools}


def assert_clear(answer: Answer, tool: str) -> None:
    assert answer.is_error, f"{tool} should fail: {answer.text[:300]}"
    assert answer.text.strip() and answer.text != f"Error executing tool {tool}", answer.text
    assert "Traceback" not in answer.text


async def test_mlflow_stopped_mid_session_then_restarted(small, tmp_path):
    from mlflow_feast_mcp.core.settings import Settings

    settings = Settings(tracking_uri=small.server.uri, feast_repo=tmp_path / "no_repo")
    calls = mlflow_calls(small)
    async with open_client(settings) as client:
        present = await tool_names(client)
        calls = {t: a for t, a in calls.items() if t in present}
        for tool, args in calls.items():  # warm: connections pooled, backends loaded
            answer, _ = await timed(client, tool, args)
            if tool.startswith("mlflow_"):
                assert not answer.is_error, f"{tool}: {answer.text[:300]}"
        small.server.stop()
        try:
            slowest = 0.0
            for tool, args in calls.items():
                answer, elapsed = await timed(client, tool, args)
                assert_clear(answer, tool)
                assert "unreachable" in answer.text and small.server.uri in answer.text, answer.text
                assert elapsed < FAIL_WITHIN, f"{tool} took {elapsed:.1f} s to fail"
                slowest = max(slowest, elapsed)
            TIMINGS["stopped: slowest failure"] = slowest
        finally:
            small.server.start()  # same port
        for tool, args in calls.items():  # same MCP session, no restart
            answer, _ = await timed(client, tool, args)
            if tool.startswith("mlflow_"):
                assert not answer.is_error, f"{tool} after restart: {answer.text[:300]}"
    print(f"\nfaults: MLflow stopped -> slowest failure {TIMINGS['stopped: slowest failure']:.2f} s")


async def test_mlflow_frozen_hits_the_bounded_timeout(small, tmp_path):
    """SIGSTOP: the port still accepts connections (kernel backlog) but nothing ever answers."""
    from mlflow_feast_mcp.core.settings import Settings

    settings = Settings(tracking_uri=small.server.uri, feast_repo=tmp_path / "no_repo", mlflow_timeout=2)
    calls = mlflow_calls(small)
    async with open_client(settings) as client:
        assert not (await call(client, "mlflow_search_runs")).is_error
        os.killpg(small.server.proc.pid, signal.SIGSTOP)
        try:
            for tool in ("mlflow_search_runs", "mlflow_get_run", "mlflow_get_model_version"):
                answer, elapsed = await timed(client, tool, calls[tool])
                assert_clear(answer, tool)
                assert "did not answer in time" in answer.text or "unreachable" in answer.text, answer.text
                assert elapsed < 2 * 2 + 3, f"{tool} took {elapsed:.1f} s with a 2 s timeout"
                TIMINGS["frozen"] = max(TIMINGS.get("frozen", 0), elapsed)
        finally:
            os.killpg(small.server.proc.pid, signal.SIGCONT)
        answer = await call(client, "mlflow_search_runs")
        assert not answer.is_error, answer.text
    print(f"\nfaults: MLflow frozen -> slowest failure {TIMINGS['frozen']:.2f} s (timeout 2 s)")


class DelayProxy:
    """A loopback TCP proxy that holds every chunk from upstream for `delay` seconds."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.delay = 0.0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()

    async def __aenter__(self) -> DelayProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.close()
            return

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, delayed: bool) -> None:
            try:
                while data := await src.read(65536):
                    if delayed and self.delay:
                        await asyncio.sleep(self.delay)
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                with contextlib.suppress(Exception):
                    dst.close()

        for coro in (pipe(reader, up_writer, False), pipe(up_reader, writer, True)):
            task = asyncio.create_task(coro)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)


async def test_mlflow_answering_slowly_hits_the_bounded_timeout(small, tmp_path):
    from mlflow_feast_mcp.core.settings import Settings

    calls = mlflow_calls(small)
    async with DelayProxy(small.server.port) as proxy:
        uri = f"http://127.0.0.1:{proxy.port}"
        settings = Settings(tracking_uri=uri, feast_repo=tmp_path / "no_repo", mlflow_timeout=2)
        async with open_client(settings) as client:
            assert not (await call(client, "mlflow_get_run", **calls["mlflow_get_run"])).is_error
            proxy.delay = 6.0
            for tool in ("mlflow_search_runs", "mlflow_get_run", "mlflow_list_registered_models"):
                answer, elapsed = await timed(client, tool, calls[tool])
                assert_clear(answer, tool)
                assert "did not answer in time" in answer.text and uri in answer.text, answer.text
                assert elapsed < 2 * 2 + 2, f"{tool} took {elapsed:.1f} s with a 2 s timeout"
                TIMINGS["slow"] = max(TIMINGS.get("slow", 0), elapsed)
            proxy.delay = 0.5  # slow but within the timeout: answers
            answer, elapsed = await timed(client, "mlflow_get_run", calls["mlflow_get_run"])
            assert not answer.is_error, answer.text
            proxy.delay = 0.0
            for tool, args in calls.items():
                if tool.startswith("mlflow_"):
                    answer = await call(client, tool, **args)
                    assert not answer.is_error, f"{tool} after the slow spell: {answer.text[:300]}"
    print(f"\nfaults: MLflow slow (6 s delay) -> slowest failure {TIMINGS['slow']:.2f} s (timeout 2 s)")


async def test_mlflow_client_backend_against_dead_server_is_bounded(tmp_path):
    from mlflow_feast_mcp.core.settings import Settings

    uri = f"http://127.0.0.1:{free_port()}"
    settings = Settings(
        tracking_uri=uri, feast_repo=tmp_path / "no_repo", mlflow_backend="client", mlflow_timeout=2
    )
    async with open_client(settings) as client:
        for tool, args in (
            ("mlflow_search_runs", {}),
            ("mlflow_get_run", {"run_id": "0" * 32}),
            ("mlflow_list_registered_models", {}),
        ):
            answer, elapsed = await timed(client, tool, args)
            assert_clear(answer, tool)
            assert uri in answer.text, answer.text
            assert elapsed < 30, f"{tool} took {elapsed:.1f} s on the MlflowClient backend"
            TIMINGS["client backend dead"] = max(TIMINGS.get("client backend dead", 0), elapsed)
    print(f"\nfaults: MlflowClient backend, dead server -> slowest {TIMINGS['client backend dead']:.2f} s")


# ---------------------------------------------------------------- Feast


FEAST_CALLS = {
    "feast_list_feature_views": {},
    "feast_describe_feature_view": {"name": "game_features"},
    "feast_list_entities": {},
    "feast_list_data_sources": {},
    "feast_list_feature_services": {},
    "feast_get_feature_view_history": {"name": "game_features"},
}


@pytest.fixture
def repo_copy(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    if not (Path(__file__).parent / "support" / "feast_world.py").exists():
        pytest.skip("Feast test world not present")
    feast_world = request.getfixturevalue("feast_world")
    target = tmp_path / "repo"
    shutil.copytree(feast_world.file_repo, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@contextlib.asynccontextmanager
async def feast_client(small: Small, repo: Path, ttl: float) -> AsyncIterator:
    from mlflow_feast_mcp.core.settings import Settings

    settings = Settings(tracking_uri=small.server.uri, feast_repo=repo, feast_cache_ttl=ttl)
    async with open_client(settings) as client:
        yield client


async def test_feast_registry_deleted_or_corrupted_while_serving(small, repo_copy):
    registry = repo_copy / "data" / "registry.db"
    good = registry.read_bytes()
    ttl = 0.5
    async with feast_client(small, repo_copy, ttl) as client:
        for tool, args in FEAST_CALLS.items():
            answer = await call(client, tool, **args)
            assert not answer.is_error, f"{tool}: {answer.text[:300]}"
        faults = {
            "deleted": lambda: registry.unlink(),
            "corrupted": lambda: registry.write_bytes(b"\x00garbage, not a protobuf\xff" * 100),
            "truncated": lambda: registry.write_bytes(good[: len(good) // 3]),
            "emptied": lambda: registry.write_bytes(b""),
        }
        for fault, damage in faults.items():
            damage()
            await asyncio.sleep(ttl + 0.1)
            for tool, args in FEAST_CALLS.items():
                answer, elapsed = await timed(client, tool, args)
                assert_clear(answer, tool)
                assert "registry" in answer.text.lower() or "feast" in answer.text.lower(), answer.text
                TIMINGS[f"feast {fault}"] = max(TIMINGS.get(f"feast {fault}", 0), elapsed)
            for tool in ("mlflow_search_runs", "mlflow_get_model_version"):  # MLflow unaffected
                answer = await call(client, tool, **mlflow_calls(small)[tool])
                assert not answer.is_error, f"{tool} with Feast {fault}: {answer.text[:300]}"
            registry.write_bytes(good)
            await asyncio.sleep(ttl + 0.1)
            answer = await call(client, "feast_list_feature_views")
            assert not answer.is_error, f"not recovered after {fault}: {answer.text[:300]}"
    print(
        "\nfaults: Feast registry "
        + ", ".join(f"{k.split()[1]} -> fails in {v:.2f} s" for k, v in TIMINGS.items() if "feast" in k)
    )


async def test_feast_apply_while_serving_is_seen_within_ttl(small, request, tmp_path):
    from support.feast_world import REMOVED_FIELD, apply, copy_repo, older_features

    feast_world = request.getfixturevalue("feast_world")
    # a copy with its own registry, applied afresh: the world's registry records the absolute path
    # of the world's online store, and `feast apply` on a copy of it would drop the world's tables
    repo_copy = copy_repo(tmp_path / "repo")
    await asyncio.to_thread(apply, repo_copy, feast_world.data_dir)
    ttl = 2.0
    async with feast_client(small, repo_copy, ttl) as client:
        before = await call(client, "feast_describe_feature_view", name="game_features")
        assert not before.is_error, before.text
        assert REMOVED_FIELD not in before.text
        features_py = repo_copy / "features.py"
        features_py.write_text(older_features(features_py.read_text()))
        await asyncio.to_thread(apply, repo_copy, feast_world.data_dir)  # the real `feast apply` CLI
        applied = time.monotonic()
        seen = None
        while time.monotonic() - applied < ttl + 5:
            answer = await call(client, "feast_describe_feature_view", name="game_features")
            assert not answer.is_error, answer.text
            if REMOVED_FIELD in answer.text:
                seen = time.monotonic() - applied
                break
            await asyncio.sleep(0.2)
        assert seen is not None, f"`feast apply` not seen {ttl + 5} s after it finished (TTL {ttl} s)"
        assert seen <= ttl + 1.0, f"seen after {seen:.1f} s, TTL {ttl} s"
        answer = await call(client, "mlflow_search_runs")
        assert not answer.is_error
    print(f"\nfaults: `feast apply` while serving seen after {seen:.2f} s (TTL {ttl} s)")


async def test_an_empty_listing_of_a_finished_run_is_not_cached(small, tmp_path):
    """Files uploaded after end_run (a late log_artifact) show at once, not after the cache's minute;
    a listing with files is cached as before."""
    from mlflow.tracking import MlflowClient

    from mlflow_feast_mcp.core.settings import Settings

    mlflow = MlflowClient(tracking_uri=small.server.uri)
    run_id = mlflow.create_run(mlflow.create_experiment("late_artifacts")).info.run_id
    mlflow.set_terminated(run_id, "FINISHED")
    settings = Settings(tracking_uri=small.server.uri, feast_repo=tmp_path / "no_repo", mlflow_cache_ttl=60)
    async with open_client(settings) as client:
        before = await call(client, "mlflow_list_artifacts", run_id=run_id)
        assert not before.is_error and "no artifacts" in before.text, before.text
        for name in ("late.txt", "later.txt"):
            (tmp_path / name).write_text("uploaded after the run ended")
            mlflow.log_artifact(run_id, str(tmp_path / name))
            after = await call(client, "mlflow_list_artifacts", run_id=run_id)
            assert not after.is_error, after.text
            if name == "late.txt":
                assert "late.txt" in after.text, after.text
            else:  # the first non-empty listing was cached for the finished run
                assert "later.txt" not in after.text, after.text


async def test_an_entry_the_artifact_store_cannot_read_fails_only_the_listing(small, tmp_path):
    """MLflow answers its root listing with an HTML 500 when the run's artifact folder holds a broken
    symlink: the listing says so in words, the run's detail and its validation still answer (the
    artifacts check fails, unverified), and a subfolder still lists."""
    from mlflow.tracking import MlflowClient

    from mlflow_feast_mcp.core.settings import Settings

    mlflow = MlflowClient(tracking_uri=small.server.uri)
    run_id = mlflow.create_run(mlflow.create_experiment("broken_link")).info.run_id
    (tmp_path / "a.txt").write_text("a")
    mlflow.log_artifact(run_id, str(tmp_path / "a.txt"), "sub")
    mlflow.set_terminated(run_id, "FINISHED")
    stored = next(p for p in (small.server.root / "artifacts").rglob("a.txt") if run_id in str(p))
    os.symlink(tmp_path / "nowhere", stored.parent.parent / "broken_link")
    settings = Settings(tracking_uri=small.server.uri, feast_repo=tmp_path / "no_repo")
    async with open_client(settings) as client:
        listing = await call(client, "mlflow_list_artifacts", run_id=run_id)
        assert listing.is_error and "could not list the artifact root" in listing.text, listing.text
        assert "<" not in listing.text and "Internal Server Error" in listing.text  # words, not HTML
        detail = await call(client, "mlflow_get_run", run_id=run_id)
        assert not detail.is_error and "artifacts could not be listed" in detail.text, detail.text
        report = await call(client, "validate_training_run", run_id=run_id)
        assert not report.is_error, report.text
        assert "[fail] artifacts: the run's artifacts could not be listed" in report.text
        sub = await call(client, "mlflow_list_artifacts", run_id=run_id, path="sub")
        assert not sub.is_error and "sub/a.txt" in sub.text, sub.text
