"""Issue 18's questions, asked of this server through a real in-memory MCP client on the curves world
(tests/support/curves_world.py) and on the MLflow 3 world's sweep (real GradientBoosting curves): the
calls, the answer sizes (text the model reads; `json.dumps(structured_content)`, which Claude Code and
VS Code hand the model instead) and which facts, read from MLflow with `MlflowClient`, they hold.

    python -m benchmarks.explore_questions               # own mlflow server, logs both worlds (~2-4 min)
    python -m benchmarks.explore_questions --no-mlflow3  # the curves world only (~30 s)
    python -m benchmarks.explore_questions --full        # also every answer's text on stderr
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from .bench_common import ROOT, log
from .mlflow3_questions import Asked, Call, Check, markdown

sys.path.insert(0, str(ROOT / "tests"))  # the worlds and the server helper live with the tests

from support.curves_world import EXPERIMENT, OVERFIT_BEST_STEP, CurvesWorld

Plan = tuple[Asked, Callable[[Call], Awaitable[None]], str]  # (question, calls, default experiment)
EXPECTED_ERRORS = {"q5_misspelt_filter"}  # the error is the answer


def curves_plans(world: CurvesWorld) -> list[Plan]:
    from mlflow.tracking import MlflowClient

    mc = MlflowClient(tracking_uri=world.uri)
    runs = mc.search_runs([world.experiment_id], order_by=["attributes.start_time DESC"])
    params = sorted({k for r in runs for k in r.data.params})
    metrics = sorted({k for r in runs for k in r.data.metrics})
    xgboost = [r for r in runs if r.data.params.get("algorithm") == "xgboost"]
    newest = [r for r in runs if {"train_loss", "val_loss"} & set(r.data.metrics)][:3]
    out: list[Plan] = []

    def plan(key: str, question: str, facts: dict[str, str], checks: dict[str, Check] | None = None):
        def wrap(fn: Callable[[Call], Awaitable[None]]) -> Callable[[Call], Awaitable[None]]:
            out.append((Asked(key, question, facts=facts, checks=checks or {}), fn, EXPERIMENT))
            return fn

        return wrap

    @plan(
        "q1_keys",
        "Which params and metrics does this experiment log?",
        {**{f"param {k}": k for k in params}, **{f"metric {k}": k for k in metrics}},
        {"xgboost count": lambda d: d[0]["params"]["algorithm"]["top"]["xgboost"] == len(xgboost)},
    )
    async def q1(call: Call) -> None:
        await call("mlflow_describe_experiment")

    series_ids = [r.info.run_id for r in newest for k in ("train_loss", "val_loss") if k in r.data.metrics]

    @plan(
        "q2_curves",
        "Compare train and validation loss of the last three runs, in one call",
        {f"run {r.info.run_name}": r.info.run_id for r in newest},
        {
            "series of the three newest runs with the metrics": lambda d: (
                [s["run_id"] for s in d[0]["series"]] == series_ids
            ),
            "missing pair named": lambda d: bool(d[0]["missing"]),
        },
    )
    async def q2(call: Call) -> None:
        await call("mlflow_get_metric_history", metric_keys=["train_loss", "val_loss"], last_runs=3)

    @plan(
        "q3_xgboost",
        "How many runs used xgboost?",
        {"count": f"of {len(xgboost)}"},
        {"exact total": lambda d: d[0]["total"] == len(xgboost) and d[0]["has_more"] is False},
    )
    async def q3(call: Call) -> None:
        await call("mlflow_search_runs", filter="params.algorithm = 'xgboost'")

    @plan(
        "q3_xgboost_describe",
        "(the same, from the experiment's key statistics)",
        {"count": f"xgboost x{len(xgboost)}"},
    )
    async def q3b(call: Call) -> None:
        await call("mlflow_describe_experiment")

    overfit = {
        "overfitting warned with the best step": lambda d: any(
            c["name"] == "overfitting"
            and c["status"] == "warn"
            and c["evidence"]["best_step"] == OVERFIT_BEST_STEP
            for c in d[0].get("checks", d[0].get("diagnosis", []))
        )
    }

    @plan(
        "q4_diagnosis",
        "Is run overfit_xgb healthy? (validate_training_run)",
        {"best step": f"best at step {OVERFIT_BEST_STEP}"},
        overfit,
    )
    async def q4(call: Call) -> None:
        await call("validate_training_run", run_id="overfit_xgb", compare_with_previous=False)

    @plan(
        "q4_diagnosis_get_run",
        "(the same, in mlflow_get_run detailed)",
        {"best step": f"best at step {OVERFIT_BEST_STEP}"},
        overfit,
    )
    async def q4b(call: Call) -> None:
        await call("mlflow_get_run", run_id="overfit_xgb", response_format="detailed")

    @plan(
        "q5_misspelt_filter",
        "A filter with a misspelt key (params.algoritm)",
        {"closest key": "params.algorithm"},
    )
    async def q5(call: Call) -> None:
        await call("mlflow_search_runs", filter="params.algoritm = 'xgboost'")

    return out


def mlflow3_plans(world: Any) -> list[Plan]:
    trials = list(world.sweep_children)
    trial_0, trial_1, trial_2, trial_3 = trials

    async def q6(call: Call) -> None:
        await call("mlflow_get_metric_history", metric_keys=["train_loss", "val_loss"], last_runs=4)

    asked = Asked(
        "q6_sweep_curves",
        "MLflow 3 sweep: train and val loss of its four trials (40 boosting steps each), in one call",
        facts={f"trial {i}": t for i, t in enumerate(trials)},
        checks={
            "eight series": lambda d: len(d[0]["series"]) == 8,
            "every point of the budget used fairly": lambda d: d[0]["points_returned"] <= 200,
        },
    )

    async def q7(call: Call) -> None:
        for trial in (trial_0, trial_1, trial_2, trial_3):
            await call("mlflow_get_run", run_id=trial, response_format="detailed")

    readings = Asked("q7_sweep_diagnosis", "MLflow 3 sweep: curve readings of each trial (detailed run)")
    return [(asked, q6, world.experiment_name), (readings, q7, world.experiment_name)]


async def ask(plans: list[Plan], uri: str) -> list[Asked]:
    import json

    from mcp import Client

    from mlflow_feast_mcp.core.settings import Settings
    from mlflow_feast_mcp.server.app import build_server

    answered = []
    for asked, fn, experiment in plans:
        settings = Settings(
            tracking_uri=uri, feast_repo=Path(tempfile.mkdtemp()) / "none", default_experiment=experiment
        )
        async with Client(build_server(settings)) as client:

            async def call(tool: str, _asked: Asked = asked, **arguments: Any) -> str:
                result = await client.call_tool(tool, arguments)
                text = "\n".join(getattr(b, "text", "") for b in result.content or [])
                data = result.structured_content or {}
                _asked.calls.append(
                    {
                        "structured": data,
                        "tool": tool,
                        "args": arguments,
                        "text_chars": len(text),
                        "structured_chars": len(json.dumps(data)) if data else 0,
                        "error": bool(result.is_error) and _asked.key not in EXPECTED_ERRORS,
                        "text": text,
                    }
                )
                return text

            await fn(call)
        answered.append(asked)
    return answered


def readings(answered: list[Asked]) -> list[str]:
    """One line per sweep trial: the status of each curve reading."""
    lines = []
    for a in answered:
        if a.key != "q7_sweep_diagnosis":
            continue
        for c in a.calls:
            d = c["structured"]
            found = Counter(f"{x['name']}={x['status']}" for x in d.get("diagnosis", []))
            lines.append(f"- {d.get('run_name')} ({d.get('params', {})}): " + ", ".join(sorted(found)))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-mlflow3", action="store_true", help="skip the MLflow 3 world (faster)")
    parser.add_argument("--full", action="store_true", help="print every answer's text on stderr")
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "20")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    from support.curves_world import log_curves_world
    from support.servers import MlflowServer

    with tempfile.TemporaryDirectory(prefix="explore-questions-") as tmp:
        server = MlflowServer(Path(tmp) / "mlflow").start()
        try:
            with contextlib.redirect_stdout(sys.stderr):  # MLflow prints run links on stdout
                log(f"logging the curves world into {server.uri} ...")
                plans = curves_plans(log_curves_world(server.uri))
                if not args.no_mlflow3:
                    from support.mlflow3_world import log_mlflow3_world

                    log("logging the MLflow 3 world ...")
                    plans += mlflow3_plans(log_mlflow3_world(server.uri, Path(tmp) / "scratch"))
            answered = asyncio.run(ask(plans, server.uri))
        finally:
            server.stop()
    if args.full:
        for a in answered:
            for c in a.calls:
                log(f"\n===== {a.key}: {c['tool']}({c['args']}) text={c['text_chars']}\n{c['text']}")
    print(markdown(answered))
    print("\n".join(readings(answered)))


if __name__ == "__main__":
    main()
