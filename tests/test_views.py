"""MCP Apps views (issue 20): the curves view of mlflow_get_metric_history and the comparison view of
mlflow_compare_runs. Served as `ui://` resources that hosts without the extension never see in a
tool's definition (only `_meta`); built from views/ into the package; drawn in a real headless
Chromium from real tool results delivered by the official host side of the protocol (AppBridge), and
checked for what is drawn: series, points, legend, marks, bars, hover, toggles, theme, no network."""

from __future__ import annotations

import os
import re
import shutil
import struct
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from support.curves_world import OVERFIT_BEST_STEP
from support.views import BUDGET, PACKAGE_VIEWS, build, deliver, need_browser, need_build_tools, show

pytestmark = pytest.mark.anyio
APP_MIME = "text/html;profile=mcp-app"
VIEWS = {
    "mlflow_get_metric_history": "ui://mlflow-feast-mcp/curves.html",
    "mlflow_compare_runs": "ui://mlflow-feast-mcp/comparison.html",
}
SHOTS_ENV = "MLFLOW_FEAST_MCP_VIEWS_SHOTS"  # a folder: the demo screenshots are copied there (docs/views)
MARKUP_NAME = "<img src=x onerror=\"document.title='pwned'\">run"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    need_build_tools()
    out = tmp_path_factory.mktemp("views-build")
    build(out / "views", out / "host")
    return out / "views", out / "host" / "host.js"


@pytest.fixture(scope="module")
def host_js(built: tuple[Path, Path]) -> Path:
    need_browser()
    return built[1]


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def clean(report: dict[str, Any]) -> None:
    """Nothing fetched (the page, the host and the view are inline), no error in any console."""
    assert report["requests"] == [], report["requests"]
    assert report["errors"] == [], report["errors"]


# ---- what clients without the extension see: nothing new but _meta and two resources ------------


async def test_tools_with_views_point_at_served_app_resources(client) -> None:
    tools = {t.name: t for t in (await client.list_tools()).tools}
    for name, tool in tools.items():
        if name in VIEWS:
            assert tool.meta == {"ui": {"resourceUri": VIEWS[name]}, "ui/resourceUri": VIEWS[name]}
        else:
            assert not tool.meta, name
    listed = {str(r.uri): r for r in (await client.list_resources()).resources}
    for uri in VIEWS.values():
        assert listed[uri].mime_type == APP_MIME
        contents = (await client.read_resource(uri)).contents
        assert len(contents) == 1 and contents[0].mime_type == APP_MIME
        assert contents[0].text.startswith("<!doctype html>")
    assert "io.modelcontextprotocol/ui" in (client.server_capabilities.extensions or {})


async def test_without_the_views_tools_and_results_are_the_same(settings, world, monkeypatch) -> None:
    """The same server with no view registered: every tool definition equal but for `_meta`, and the
    same call answers the same text and structured content."""
    from mcp import Client

    from mlflow_feast_mcp.server import app

    async def catalogue_and_answer() -> tuple[list[dict[str, Any]], Any]:
        async with Client(app.build_server(settings)) as session:
            tools = [t.model_dump(exclude={"meta"}) for t in (await session.list_tools()).tools]
            ids = [world.runs["seed"], world.runs["parts"]]
            result = await session.call_tool("mlflow_compare_runs", {"run_ids": ids})
            return tools, (result.content, result.structured_content, result.is_error)

    with_views = await catalogue_and_answer()
    monkeypatch.setattr(app, "VIEW_OF_TOOL", {})
    without = await catalogue_and_answer()
    assert with_views == without and with_views[1][1]["runs"]


def test_committed_views_are_small_and_fetch_nothing() -> None:
    for name in ("curves.html", "comparison.html"):
        html = (PACKAGE_VIEWS / name).read_text(encoding="utf-8")
        assert len(html.encode()) < BUDGET, f"{name} is {len(html.encode())} bytes"
        assert "default-src 'none'" in html, f"{name} lost its Content-Security-Policy"
        loads = re.findall(
            r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//|@import|"""
            r"""\bfetch\(|XMLHttpRequest|WebSocket|EventSource|sendBeacon|importScripts""",
            html,
        )
        assert not loads, f"{name} would load something: {loads}"
        assert html.count("<script") == 1 and "<script src" not in html


def test_committed_views_are_what_the_build_makes(built: tuple[Path, Path]) -> None:
    for name in ("curves.html", "comparison.html"):
        fresh = (built[0] / name).read_text(encoding="utf-8")
        committed = (PACKAGE_VIEWS / name).read_text(encoding="utf-8")
        assert fresh == committed, f"{name} is stale: run `npm run build` in views/ and commit it"


# ---- the curves view ------------------------------------------------------------------------------


async def test_curves_view_draws_every_series_with_its_legend_marks_and_hover(
    curves_client, curves_world, host_js: Path, tmp_path: Path
) -> None:
    runs = ["overfit_xgb", "gap_widens", "clean_converged"]
    d = await deliver(
        curves_client,
        "mlflow_get_metric_history",
        tmp_path,
        metric_keys=["train_loss", "val_loss"],
        run_ids=runs,
    )
    assert d.mime_type == APP_MIME
    shot = tmp_path / "curves.png"
    report = show(
        d,
        host_js,
        [
            {"do": "state"},
            {"do": "pixels"},
            {"do": "hover", "panel": 1, "at": 0.3},
            {"do": "screenshot", "path": str(shot)},
        ],
    )
    clean(report)
    state, pixels, hover, _ = report["steps"]
    assert report["log"][0]["initialized"]["name"] == "mlflow-feast-mcp curves"
    assert max(entry["size"] for entry in report["log"] if isinstance(entry, dict) and "size" in entry) > 400

    assert state["mode"] == "chart"
    assert [e["text"] for e in state["legend"]] == runs and all(e["shown"] for e in state["legend"])
    assert [p["key"] for p in state["panels"]] == ["train_loss", "val_loss"]
    by_key = {(s["run_name"], s["key"]): s for s in d.data["series"]}
    for panel in state["panels"]:
        assert [s["label"] for s in panel["series"]] == runs
        for drawn in panel["series"]:
            assert drawn["points"] == len(by_key[(drawn["label"], panel["key"])]["x"]) >= 30
    for panel in pixels:  # each line is on the canvas in its colour
        assert all(s["pixels"] > 100 for s in panel), panel

    val = state["panels"][1]
    overfit = curves_world.runs["overfit_xgb"]
    assert {(m["kind"], m["run"]) for m in val["markers"]} == {
        (k, curves_world.runs[r]) for k in ("min", "max") for r in runs
    }
    best = next(m for m in val["markers"] if m["kind"] == "min" and m["run"] == overfit)
    assert best["step"] == by_key[("overfit_xgb", "val_loss")]["min"]["step"] == OVERFIT_BEST_STEP
    names = {v: k for k, v in curves_world.runs.items()}
    for panel in state["panels"]:  # each mark sits on the point its summary names
        for mark in panel["markers"]:
            summary = by_key[(names[mark["run"]], panel["key"])][mark["kind"]]
            assert (mark["x"], mark["y"]) == (summary["step"], summary["value"]), (panel["key"], mark)

    (tip,) = hover["tips"]
    assert tip.startswith("val_loss") and all(run in tip for run in runs) and "@ step" in tip
    assert png_size(shot)[0] >= 760


async def test_curves_view_toggles_runs_switches_to_log_scale_and_follows_the_theme(
    curves_client, curves_world, host_js: Path, tmp_path: Path
) -> None:
    runs = ["nan_blowup", "still_improving"]
    d = await deliver(
        curves_client, "mlflow_get_metric_history", tmp_path, metric_keys=["train_loss"], run_ids=runs
    )
    report = show(
        d,
        host_js,
        [
            {"do": "click", "selector": ".legend-entry >> nth=1"},
            {"do": "pixels"},
            {"do": "click", "selector": "#log-scale"},
            {"do": "theme", "theme": "dark"},
            {"do": "screenshot", "path": str(tmp_path / "curves-dark.png")},
            {"do": "click", "selector": "#show-table"},
        ],
    )
    clean(report)
    hidden, pixels, log, dark, _, table = report["steps"]
    assert [e["shown"] for e in hidden["legend"]] == [True, False]
    assert [s["shown"] for s in hidden["panels"][0]["series"]] == [True, False]
    assert pixels[0][0]["pixels"] > 100 and pixels[0][1]["pixels"] == 0
    assert {m["run"] for m in hidden["panels"][0]["markers"]} == {curves_world.runs["nan_blowup"]}
    assert log["panels"][0]["log"] is True
    # the host's theme change re-draws the chart dark, keeping the log scale and the hidden run
    assert dark["theme"] == "dark" and sum(map(int, re.findall(r"\d+", dark["background"])[:3])) < 150
    assert dark["state"]["panels"][0]["log"] is True
    assert [s["shown"] for s in dark["state"]["panels"][0]["series"]] == [True, False]
    nan_blowup = next(s for s in d.data["series"] if s["run_name"] == "nan_blowup")
    assert nan_blowup["nonfinite"] == 10 and dark["state"]["panels"][0]["series"][0]["points"] == 30
    assert table["mode"] == "table" and [row[0] for row in table["rows"]] == runs
    assert table["rows"][0][2] == "40 (10 NaN/inf)"


async def test_curves_view_falls_back_to_a_table_when_no_series_has_a_line(
    curves_client, host_js: Path, tmp_path: Path
) -> None:
    d = await deliver(
        curves_client, "mlflow_get_metric_history", tmp_path, metric_keys=["val_auc"], last_runs=3
    )
    assert all(len(s["x"]) == 1 for s in d.data["series"]) and len(d.data["series"]) == 3
    report = show(d, host_js, [{"do": "state"}])
    clean(report)
    (state,) = report["steps"]
    assert state["mode"] == "table" and state["panels"] == []
    assert [row[0] for row in state["rows"]] == [s["run_name"] for s in d.data["series"]]
    assert len(state["legend"]) == 3


async def test_curves_view_shows_a_tool_error_as_its_text(
    curves_client, host_js: Path, tmp_path: Path
) -> None:
    d = await deliver(
        curves_client, "mlflow_get_metric_history", tmp_path, metric_keys=["val_los"], run_ids=["overfit_xgb"]
    )
    assert d.result["isError"] is True
    report = show(d, host_js, [{"do": "state"}, {"do": "dom"}])
    clean(report)
    state, dom = report["steps"]
    assert state["fallback"] == "error" and "val_loss" in dom["text"] and "error" in dom["text"]


# ---- the comparison view ---------------------------------------------------------------------------


async def test_comparison_view_draws_deltas_params_features_and_importances(
    client, world, host_js: Path, tmp_path: Path
) -> None:
    ids = [world.runs["seed"], world.runs["parts"], world.runs["feast_tags"]]
    d = await deliver(client, "mlflow_compare_runs", tmp_path, run_ids=ids)
    shot = tmp_path / "comparison.png"
    report = show(d, host_js, [{"do": "state"}, {"do": "screenshot", "path": str(shot)}])
    clean(report)
    state = report["steps"][0]
    data = d.data
    assert report["log"][0]["initialized"]["name"] == "mlflow-feast-mcp comparison"
    assert state["runs"] == ids and state["title"].startswith("baseline_lr_v1 (baseline) vs gbm_v2")

    expected_bars = {
        (metric, ids[i], round(m["deltas"][i - 1] / abs(m["values"][0]), 9))
        for metric, m in data["metric_deltas"].items()
        for i in range(1, len(ids))
        if m["values"][0]
        and m.get("deltas")
        and m["deltas"][i - 1] is not None
        and len(set(map(str, m["values"]))) > 1
    }
    assert {(b["metric"], b["run"], round(b["relative"], 9)) for b in state["deltaBars"]} == expected_bars
    assert {"test_accuracy", "train_accuracy"} <= {b["metric"] for b in state["deltaBars"]}
    widest = max(state["deltaBars"], key=lambda b: abs(b["relative"]))
    assert all(b["width"] <= widest["width"] for b in state["deltaBars"]) and widest["width"] > 100

    assert state["params"] == list(data["param_changes"]) and "algorithm" in state["params"]
    assert state["added"] == [f for c in data["feature_changes"] for f in c.get("added", [])]
    assert state["removed"] == [f for c in data["feature_changes"] for f in c.get("removed", [])]
    assert "momentum_diff" in state["added"] and "home_elo" in state["removed"]
    recorded = [
        (f, ids[i], v)
        for f, values in data["importance_shifts"].items()
        for i, v in enumerate(values)
        if v is not None
    ]
    assert [(b["feature"], b["run"], b["value"]) for b in state["importanceBars"]] == recorded
    assert len(data["importance_shifts"]) == 5 and len(recorded) >= 5  # the concise form's top five
    assert png_size(shot)[1] > 600


async def test_comparison_view_names_model_versions(client, world, host_js: Path, tmp_path: Path) -> None:
    d = await deliver(
        client,
        "mlflow_compare_runs",
        tmp_path,
        run_ids=["game_winner_model/Production", "game_winner_model@champion"],
    )
    report = show(d, host_js, [{"do": "state"}], theme="dark")
    clean(report)
    (state,) = report["steps"]
    assert state["runs"] == [world.runs["parts"], world.runs["feast_tags"]]
    assert state["title"].startswith("game_winner_model: v2 (stage 'Production') · gbm_v2 (baseline) vs v3")
    assert [b["metric"] for b in state["deltaBars"]] == ["test_accuracy", "train_accuracy"]


# ---- stored markup stays text ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def markup_runs(mlflow_server) -> list[str]:
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=mlflow_server.uri)
    exp = client.create_experiment("views_markup")
    ids = []
    for i, name in enumerate([MARKUP_NAME, "<script>document.title='pwned'</script>"]):
        rid = client.create_run(exp, run_name=name).info.run_id
        client.log_batch(
            rid,
            metrics=[Metric("val_loss", 1 / (s + 1 + i), 1000 * s, s) for s in range(5)],
            params=[Param("note", f"<b onmouseover=alert(1)>{i}</b>")],
        )
        client.set_terminated(rid, "FINISHED")
        ids.append(rid)
    return ids


@pytest.fixture
async def markup_client(mlflow_server, tmp_path: Path) -> AsyncIterator[Any]:
    from mcp import Client

    from mlflow_feast_mcp.core.settings import Settings
    from mlflow_feast_mcp.server.app import build_server

    settings = Settings(
        tracking_uri=mlflow_server.uri, feast_repo=tmp_path / "none", default_experiment="views_markup"
    )
    async with Client(build_server(settings)) as session:
        yield session


async def test_stored_markup_is_drawn_as_text(
    markup_client, markup_runs: list[str], host_js: Path, tmp_path: Path
) -> None:
    curves = await deliver(
        markup_client, "mlflow_get_metric_history", tmp_path, metric_keys=["val_loss"], run_ids=markup_runs
    )
    compared = await deliver(markup_client, "mlflow_compare_runs", tmp_path, run_ids=markup_runs)
    drawn = {}
    for d in (curves, compared):
        report = show(d, host_js, [{"do": "dom"}, {"do": "state"}])
        clean(report)
        dom, drawn[d.tool] = report["steps"]
        assert dom["images"] == 0 and dom["scripts"] == 1 and dom["handlers"] == 0
        assert "pwned" not in dom["title"] and MARKUP_NAME in dom["text"]
    legend = [e["text"] for e in drawn["mlflow_get_metric_history"]["legend"]]
    assert legend == [MARKUP_NAME, "<script>document.title='pwned'</script>"]
    assert drawn["mlflow_compare_runs"]["params"] == ["note"]


# ---- the demo's data, and the README's screenshots --------------------------------------------------


@pytest.fixture
async def demo_client(demo_seed) -> AsyncIterator[Any]:
    from mcp import Client

    from mlflow_feast_mcp.core.settings import Settings
    from mlflow_feast_mcp.server.app import build_server

    url, report, _ = demo_seed
    async with Client(
        build_server(Settings(tracking_uri=url, feast_repo=Path(report.feast_repo)))
    ) as session:
        yield session


@pytest.mark.slow
async def test_demo_views_as_the_readme_shows_them(demo_client, host_js: Path, tmp_path: Path) -> None:
    versions = ["game_winner_model/Production", "game_winner_model@champion"]
    curves = await deliver(
        demo_client,
        "mlflow_get_metric_history",
        tmp_path,
        metric_keys=["train_logloss", "val_logloss"],
        run_ids=versions,
    )
    compared = await deliver(
        demo_client, "mlflow_compare_runs", tmp_path, run_ids=[versions[1], "game_winner_model@challenger"]
    )
    hover = [{"do": "hover", "panel": 1, "at": 0.5}]  # the light curves shot shows the hover box
    shots = {
        "curves.png": (curves, "light", hover),
        "comparison.png": (compared, "light", []),
        "curves-dark.png": (curves, "dark", []),
    }
    states = {}
    for name, (d, theme, before) in shots.items():
        steps = [{"do": "state"}, *before, {"do": "screenshot", "path": str(tmp_path / name)}]
        report = show(d, host_js, steps, theme=theme, width=720)
        clean(report)
        states[name] = report["steps"][0]
        assert png_size(tmp_path / name)[0] >= 720
    drawn = states["curves.png"]
    assert [p["key"] for p in drawn["panels"]] == ["train_logloss", "val_logloss"]
    assert [e["text"] for e in drawn["legend"]] == [
        f"{s['run_name']} {s['label']}" for s in curves.data["series"] if s["key"] == "train_logloss"
    ]
    assert all(s["points"] >= 20 for p in drawn["panels"] for s in p["series"])
    assert states["comparison.png"]["deltaBars"] and states["comparison.png"]["title"].startswith(
        "game_winner_model: v5"
    )
    if folder := os.environ.get(SHOTS_ENV):
        for name in shots:
            keep(tmp_path / name, Path(folder) / name)


def keep(shot: Path, target: Path) -> None:
    """A screenshot for the docs: 128 colours (a third of the bytes, no visible change) when Pillow is
    installed, else as taken."""
    try:
        from PIL import Image
    except ImportError:
        shutil.copy(shot, target)
        return
    image = Image.open(shot).convert("RGB")
    image.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        target, optimize=True
    )
