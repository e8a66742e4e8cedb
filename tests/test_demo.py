"""The embedded demo: the seeder builds the NBA training history for real (Feast apply, historical
features, scikit-learn, MLflow through a real `mlflow server`), the MCP tools see it as seeded, and
`mlflow-feast-mcp demo --once` prints answers that MLflow, read directly, confirms."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from mlflow_feast_mcp.demo import processes, seeder
from mlflow_feast_mcp.demo.questions import QUESTIONS
from mlflow_feast_mcp.demo.seeder import MISSING_FEATURE, MODEL_NAME, RUNS, SeedReport

SPECS = {spec.role: spec for spec in RUNS}


@pytest.fixture(scope="module")
def seeded(demo_seed) -> tuple[str, SeedReport, Path]:
    """The session's small seed (tests/support/demo_world.py), served by a real `mlflow server`."""
    return demo_seed


@pytest.fixture
async def mcp_client(seeded) -> AsyncIterator[Any]:
    from mcp import Client

    from mlflow_feast_mcp.core.settings import Settings
    from mlflow_feast_mcp.server.app import build_server

    url, report, _ = seeded
    async with Client(build_server(Settings(tracking_uri=url, feast_repo=Path(report.feast_repo)))) as client:
        yield client


async def ok(client: Any, tool: str, **arguments: Any) -> tuple[dict[str, Any], str]:
    result = await client.call_tool(tool, arguments)
    text = "\n".join(getattr(block, "text", "") for block in result.content)
    assert not result.is_error, f"{tool}({arguments}) failed: {text}"
    return result.structured_content or {}, text


# ---------------------------------------------------------------------------------------------
# (a) the seeded history, through the MCP tools


@pytest.mark.slow
def test_seed_report_and_marker(seeded):
    _, report, workdir = seeded
    assert len(report.runs) >= 7 and report.small
    assert [r.status for r in report.runs].count("FAILED") == 1
    assert (workdir / ".seeded.json").is_file()
    again = seeder.seed(workdir, "http://127.0.0.1:1", small=True, progress=lambda line: None)
    assert again.reused and again.run_ids == report.run_ids  # idempotent: reused, MLflow not touched
    stages = {v.stage for v in report.versions}
    assert {"Production", "Staging", "Archived"} <= stages
    assert report.version_with(alias="champion").version != report.version_with(stage="Production").version
    # the Feast repo copy was applied and holds the data
    repo = Path(report.feast_repo)
    assert (repo / "data" / "registry.db").is_file() and (repo / "data" / "labels.parquet").is_file()


@pytest.mark.slow
@pytest.mark.anyio
async def test_runs_history_through_mcp(mcp_client, seeded):
    _, report, _ = seeded
    data, _ = await ok(mcp_client, "mlflow_search_runs", page_size=50)
    runs = data["runs"]
    assert len(runs) >= 6
    assert [r["status"] for r in runs].count("FAILED") == 1
    failed = next(r for r in runs if r["status"] == "FAILED")
    assert failed["run_id"] == report.run_ids["failed"] and "test_accuracy" not in failed.get("metrics", {})
    assert {r["algorithm"] for r in runs} >= {"logistic_regression", "random_forest", "gradient_boosting"}
    # newest first: the last run logged is the latest
    assert runs[0]["run_id"] == report.runs[-1].run_id
    assert runs[0]["metrics"]["test_accuracy"] == report.runs[-1].test_accuracy
    by_version = {r["model_version"] for r in runs}
    assert {"v1.0", "v1.1", "v1.2", "v2.0", "v2.1", "v2.2"} <= by_version


@pytest.mark.slow
@pytest.mark.anyio
async def test_features_per_model_version_as_seeded(mcp_client, seeded):
    _, report, _ = seeded
    seen: dict[str, list[str]] = {}
    for run in report.runs:
        if run.status != "FINISHED":
            continue
        data, _ = await ok(mcp_client, "mlflow_get_run_features", run_id=run.run_id)
        assert data["features"] == list(SPECS[run.role].features), run.run_name
        assert data["source"] == "features.json" and data["logged_feature_count"] == len(data["features"])
        shown = len(data["importances"])  # the five largest, and how many there are when more
        assert shown == min(5, len(data["features"]))
        assert data.get("importance_count", shown) == len(data["features"])
        seen[run.model_version] = data["features"]
    assert len({tuple(f) for f in seen.values()}) == len(seen)  # every version has its own feature set
    v1, v2 = report.run("baseline"), report.run("production")
    data, _ = await ok(mcp_client, "mlflow_compare_runs", run_ids=[v1.run_id, v2.run_id])
    diff = next(d for d in data["feature_changes"] if d["run_id"] == v2.run_id)
    assert "momentum_diff" in diff["added"] and "home_elo" in diff["removed"]


@pytest.mark.slow
@pytest.mark.anyio
async def test_runs_carry_feasts_own_tags(mcp_client, seeded):
    """The seeder reads each run's features through Feast with its MLflow integration on: the
    feast.* tags are Feast's, naming the service and the run's own refs."""
    _, report, _ = seeded
    run = report.run("champion")
    data, _ = await ok(mcp_client, "mlflow_get_run_features", run_id=run.run_id)
    assert data["feast_retrieval"]["feature_service"] == "game_winner_v1"
    assert data["feast_retrieval"]["retrieval_type"] == "historical"
    assert "entity_df_columns" not in data["feast_retrieval"]  # the entity dataframe's shape: detail
    data, _ = await ok(mcp_client, "mlflow_get_run_features", run_id=run.run_id, response_format="detailed")
    assert data["feast_retrieval"]["entity_df_columns"] == "game_id,event_timestamp,home_team_won"
    from mlflow.tracking import MlflowClient

    url = seeded[0]
    tags = MlflowClient(tracking_uri=url, registry_uri=url).get_run(report.run("misaligned").run_id).data.tags
    refs = tags["feast.feature_refs"].split(",")  # Feast's: the ad-hoc column is no Feast feature
    assert len(refs) == len(SPECS["misaligned"].features) - 1 and not any(MISSING_FEATURE in r for r in refs)
    align, _ = await ok(mcp_client, "check_feature_alignment", run_or_model=run.run_id)
    assert (
        align["feature_service"]["name"] == "game_winner_v1"
        and align["feature_service"]["tagged_on"] == "run"
    )


@pytest.mark.slow
@pytest.mark.anyio
async def test_registry_stages_aliases_and_conflict(mcp_client, seeded):
    _, report, _ = seeded
    data, _ = await ok(mcp_client, "mlflow_get_registered_model", model_name=MODEL_NAME)
    stages = {v.get("stage", "None") for v in data["versions"]}  # no stage: the field is omitted
    assert {"Production", "Staging", "Archived"} <= stages
    assert set(data["aliases"]) >= {"champion", "challenger"}
    production = report.version_with(stage="Production")
    champion = report.version_with(alias="champion")
    assert data["aliases"]["champion"] == champion.version != production.version

    answer, text = await ok(mcp_client, "mlflow_get_model_version", version_ref="Production")
    assert answer["version"]["version"] == production.version
    assert answer["resolution"]["resolved_by"] == "stage"
    assert any("champion" in c for c in answer["resolution"]["conflicts"]), answer["resolution"]
    assert "CONFLICT" in text or "conflict" in text

    staging, _ = await ok(mcp_client, "mlflow_get_model_version", version_ref="Staging")
    assert staging["version"]["version"] == report.version_with(stage="Staging").version
    assert "challenger" in staging["version"]["aliases"]


@pytest.mark.slow
@pytest.mark.anyio
async def test_misaligned_run_trained_on_a_feature_feast_lacks(mcp_client, seeded):
    _, report, _ = seeded
    run = report.run("misaligned")
    data, _ = await ok(mcp_client, "mlflow_get_run_features", run_id=run.run_id)
    assert MISSING_FEATURE in data["features"]
    versions, _ = await ok(mcp_client, "mlflow_get_registered_model", model_name=MODEL_NAME)
    assert run.run_id in {v["run_id"] for v in versions["versions"]}  # it was registered
    tools = {t.name for t in (await mcp_client.list_tools()).tools}
    if "feast_describe_feature_view" in tools:
        view, _ = await ok(mcp_client, "feast_describe_feature_view", name="game_features")
        assert MISSING_FEATURE not in {f["name"] for f in view["fields"]}
    if "check_feature_alignment" in tools:
        _, text = await ok(mcp_client, "check_feature_alignment", run_or_model=run.run_id)
        assert MISSING_FEATURE in text


@pytest.mark.slow
@pytest.mark.anyio
async def test_curves_and_seed_artifacts(mcp_client, seeded):
    _, report, _ = seeded
    run = report.run("production")
    curve, _ = await ok(
        mcp_client, "mlflow_get_metric_history", run_ids=[run.run_id], metric_keys=["val_logloss"]
    )
    assert curve["series"][0]["count"] >= 100
    listing, _ = await ok(mcp_client, "mlflow_list_artifacts", run_id=run.run_id)
    paths = {e["path"] for e in listing["entries"]}
    for required in (
        "calibrator.pkl",
        "model/MLmodel",
        "training_artifacts/features.json",
        "training_artifacts/feature_importances.json",
        "training_artifacts/run_info.txt",
        "training_artifacts/calibrator.pkl",
    ):
        assert required in paths, required
    text, _ = await ok(
        mcp_client, "mlflow_read_artifact", run_id=run.run_id, path="training_artifacts/run_info.txt"
    )
    assert "gradient_boosting" in str(text)
    detail, _ = await ok(mcp_client, "mlflow_get_run", run_id=run.run_id)
    assert detail["params"]["algorithm"] == "gradient_boosting" and "max_depth" in detail["params"]
    assert detail["features"] == list(SPECS["production"].features)


# ---------------------------------------------------------------------------------------------
# (b) `mlflow-feast-mcp demo --once` as a subprocess


def predictions_rows(workdir: Path) -> int:
    """Rows of ml_dev.predictions in the demo folder, read on a read-only connection."""
    import sqlite3

    with sqlite3.connect(f"file:{workdir / 'predictions.db'}?mode=ro", uri=True) as connection:
        return connection.execute("SELECT count(*) FROM predictions").fetchone()[0]


@pytest.mark.slow
def test_demo_once_prints_answers_mlflow_confirms(seeded):
    """Runs the CLI over the module's seeded folder (so it also proves the reuse path); seeding from
    scratch is what the `seeded` fixture does with the same code."""
    _, report, workdir = seeded
    mlflow_port, mcp_port = processes.free_port(), processes.free_port()
    while mcp_port == mlflow_port:
        mcp_port = processes.free_port()
    exe = Path(sys.executable).with_name("mlflow-feast-mcp")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "mlflow_feast_mcp"]
    cmd += ["demo", "--once", "--small", "--dir", str(workdir)]
    cmd += ["--mlflow-port", str(mlflow_port), "--mcp-port", str(mcp_port)]
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "FEAST_REPO_PATH")}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    out = proc.stdout
    assert proc.returncode == 0, f"exit {proc.returncode}\n{out[-4000:]}\n{proc.stderr[-4000:]}"
    assert "reusing the seeded demo" in out
    rows = predictions_rows(workdir)
    assert (
        f"[predictions] reusing ml_dev.predictions ({workdir / 'predictions.db'}): {rows} rows in 1 batch"
        in out
    )

    from mlflow.tracking import MlflowClient

    store = f"sqlite:///{workdir / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=store, registry_uri=store)
    experiment = client.get_experiment_by_name(report.experiment)
    latest = client.search_runs([experiment.experiment_id], order_by=["start_time DESC"], max_results=1)[0]
    production = client.get_latest_versions(MODEL_NAME, stages=["Production"])[0]
    champion = client.get_model_version_by_alias(MODEL_NAME, "champion")

    q2 = out.split("Q2.")[1].split("Q3.")[0]
    assert f"test_accuracy={latest.data.metrics['test_accuracy']}" in q2
    assert latest.info.run_name in out.split("Q1.")[1].split("Q2.")[0]
    q3 = out.split("Q3.")[1].split("Q4.")[0]
    assert re.search(rf"\bv{production.version}\b", q3), q3
    assert "CONFLICT" in q3 and f"v{champion.version}" in q3
    assert "mlflow_compare_runs" in out.split("Q4.")[1]
    assert "tool error" not in out
    for n, question in enumerate(QUESTIONS, start=1):
        assert f"Q{n}. {question.text}\n   -> {question.call_text()}" in out
    # the phases and their times, MLflow and the MCP server started side by side on a reused seed
    phases = json.loads(out.split("phases: ", 1)[1].splitlines()[0])
    assert {
        "MLflow server start (to /health)",
        "MCP server start (imports, HTTP up)",
        "seed (reused)",
    } <= set(phases)
    assert phases["seed (reused)"] < 1.0 and phases["total"] > phases["MLflow server start (to /health)"]
    assert phases["predictions (reused)"] < 2.0  # a restart reads the table, it does not re-predict
    q8 = " ".join(out.split("Q8.")[1].split("== Start-up phases")[0].split())
    assert "OK: the newest batch" in q8 and f"{rows} rows in 1 batch;" in q8, q8
    # --once says it exits and prints no URL or client entry that is about to die
    after = out.split("== Start-up phases", 1)[1]
    assert "--once: stopping MLflow and the MCP server and exiting" in after
    assert "http://" not in after and '"mcpServers"' not in out and "ready in" not in out


@pytest.mark.slow
def test_demo_serves_the_feast_ui_beside_the_mlflow_ui(seeded, tmp_path):
    """`mlflow-feast-mcp demo` (serving, not --once) starts `feast ui` over the demo's repo; its
    wanted port is taken here, so it says which one it uses instead, and prints it with the others."""
    import socket
    import time

    import httpx

    _, report, workdir = seeded
    ports = [processes.free_port() for _ in range(3)]
    exe = Path(sys.executable).with_name("mlflow-feast-mcp")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "mlflow_feast_mcp"]
    cmd += ["demo", "--small", "--dir", str(workdir), "--mlflow-port", str(ports[0])]
    cmd += ["--mcp-port", str(ports[1]), "--feast-ui-port", str(ports[2])]
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "FEAST_REPO_PATH")}
    log = tmp_path / "demo.out"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", ports[2]))
        busy.listen()
        proc = processes.start_process(cmd, log=log, env=env)
        try:
            deadline = time.monotonic() + 240
            while "serving until Ctrl-C" not in log.read_text() and time.monotonic() < deadline:
                assert proc.poll() is None, log.read_text()[-3000:]
                time.sleep(0.5)
            out = log.read_text()
            assert f"! port {ports[2]} (feast-ui) is in use: using " in out, out[-3000:]
            url = re.search(r"^Feast UI: (http://127\.0\.0\.1:\d+) \(projects: nba_analytics\)$", out, re.M)
            assert url, out[-3000:]
            ready = next(line for line in out.splitlines() if line.startswith("ready in"))
            assert f"MLflow UI http://127.0.0.1:{ports[0]} | Feast UI {url[1]} | MCP" in ready
            with httpx.Client(timeout=10, trust_env=False) as http:
                listed = http.get(f"{url[1]}/projects-list.json").json()
                views = http.get(f"{url[1]}/api/v1/feature_views", params={"project": "nba_analytics"}).json()
            assert [p["id"] for p in listed["projects"]] == ["nba_analytics"]
            assert {"game_features", "game_momentum_features"} <= {
                v["spec"]["name"] for v in views["featureViews"]
            }
        finally:
            processes.stop_process(proc)
    ui_port = int(url[1].rsplit(":", 1)[1])
    assert processes.port_is_free(ui_port), "the Feast UI outlived the demo"
    assert Path(report.feast_repo, "feature_store.yaml").read_text().count(f"127.0.0.1:{ports[0]}") == 1


@pytest.mark.slow
@pytest.mark.anyio
async def test_printed_stdio_client_entry_works_as_written(seeded, tmp_path):
    """The stdio entry the demo prints (absolute console script, env) answers MLflow and Feast
    questions when spawned the way a client spawns it: from another folder, with only its env."""
    from mcp import Client, StdioServerParameters

    from mlflow_feast_mcp.demo.runner import client_config, connect_instructions

    url, report, _ = seeded
    config = client_config(url, "http://127.0.0.1:1/mcp", Path(report.feast_repo))
    printed = connect_instructions(url, "http://127.0.0.1:1/mcp", Path(report.feast_repo))
    assert json.dumps(config, indent=2) in printed and report.feast_repo in printed
    entry = config["mcpServers"]["mlflow-feast"]
    assert Path(entry["command"]).is_absolute() and Path(entry["command"]).exists()
    env = {k: v for k, v in os.environ.items() if k in ("HOME", "LANG", "PYTHONPATH")} | entry["env"]
    params = StdioServerParameters(command=entry["command"], args=entry["args"], env=env, cwd=str(tmp_path))
    async with Client(params) as client:
        runs = await client.call_tool("mlflow_search_runs", {"page_size": 1})
        assert not runs.is_error and runs.structured_content["runs"][0]["run_id"] == report.runs[-1].run_id
        view = await client.call_tool("feast_describe_feature_view", {"name": "game_features"})
        assert not view.is_error, view.content


def test_readme_question_table_is_the_demo_question_list():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    table = readme.split("## In use on the demo data", 1)[1].split("\n\n")[2]
    rows = [line.split(" | ") for line in table.splitlines()[2:]]
    listed = [(cells[0].removeprefix("| "), cells[1].strip("`")) for cells in rows]
    assert listed == [(q.text, q.call_text()) for q in QUESTIONS]
