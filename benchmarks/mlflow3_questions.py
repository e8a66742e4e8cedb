"""Issue 19's questions, asked of this server on the MLflow 3 world (tests/support/mlflow3_world.py:
autolog, LoggedModels, aliases without stages, a stage/alias conflict, a nested sweep) through a real
in-memory MCP client: the calls an agent would make, the answer sizes in characters (text the model
reads; `json.dumps(structured_content)`), and which facts, read from MLflow with `MlflowClient`, the
answers hold.

    python -m benchmarks.mlflow3_questions                # own mlflow server, logs the world (~1-3 min)
    python -m benchmarks.mlflow3_questions --json out.json --full   # also every answer's text
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .bench_common import CHARS_PER_TOKEN, ROOT, log

sys.path.insert(0, str(ROOT / "tests"))  # the world and the server helper live with the tests

from support.mlflow3_world import MODEL, SWEEP_METRIC, SWEEP_MODEL, Mlflow3World

Check = Callable[[list[dict[str, Any]]], bool]


@dataclass
class Asked:
    key: str
    question: str
    calls: list[dict[str, Any]] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)  # label -> string the answer should contain
    absent: dict[str, str] = field(default_factory=dict)  # label -> string it should not contain
    checks: dict[str, Check] = field(default_factory=dict)  # label -> test of the structured answers

    @property
    def text(self) -> str:
        return "\n".join(c["text"] for c in self.calls)

    def missing(self) -> list[str]:
        text, data = self.text, [c["structured"] for c in self.calls]
        return (
            ["an answer (a call failed)"] * any(c["error"] for c in self.calls)
            + [label for label, fact in self.facts.items() if fact not in text]
            + [f"not {label}" for label, fact in self.absent.items() if fact in text]
            + [label for label, check in self.checks.items() if not _holds(check, data)]
        )


def _holds(check: Check, data: list[dict[str, Any]]) -> bool:
    try:
        return bool(check(data))
    except (KeyError, IndexError, TypeError):
        return False


Call = Callable[..., Awaitable[str]]


def truth(world: Mlflow3World) -> dict[str, Any]:
    """What the answers should say, read from MLflow (not from our server)."""
    import warnings

    from mlflow.tracking import MlflowClient

    warnings.filterwarnings("ignore")
    mc = MlflowClient(tracking_uri=world.uri, registry_uri=world.uri)
    champion = mc.get_model_version_by_alias(MODEL, "champion")
    champion_model = mc.get_logged_model(champion.source.removeprefix("models:/"))
    autolog = mc.get_run(world.runs["rf_autolog"])
    runs = mc.search_runs([world.experiment_id], order_by=["attributes.start_time DESC"])
    top = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    trials = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == world.runs["sweep"]]
    best = max(trials, key=lambda r: r.data.metrics[SWEEP_METRIC])
    production = mc.get_latest_versions(SWEEP_MODEL, ["Production"])[0]
    return {
        "champion": champion,
        "champion_model": champion_model,
        "autolog": autolog,
        "autolog_model": autolog.outputs.model_outputs[0].model_id,
        "newest": top[0],
        "previous_top_level": top[1],
        "best": best,
        "production": production,
        "production_alias": mc.get_model_version_by_alias(SWEEP_MODEL, "production"),
    }


def plans(world: Mlflow3World, t: dict[str, Any]) -> list[tuple[Asked, Callable[[Call], Awaitable[None]]]]:
    champion, model = t["champion"], t["champion_model"]
    scoped = {m.key: m.value for m in model.metrics if m.dataset_name}
    out: list[tuple[Asked, Callable[[Call], Awaitable[None]]]] = []

    def plan(
        key: str,
        question: str,
        facts: dict[str, str],
        absent: dict[str, str] | None = None,
        checks: dict[str, Check] | None = None,
    ):
        def wrap(fn: Callable[[Call], Awaitable[None]]) -> Callable[[Call], Awaitable[None]]:
            out.append((Asked(key, question, facts=facts, absent=absent or {}, checks=checks or {}), fn))
            return fn

        return wrap

    champion_facts = {
        "run id": champion.run_id,
        "test_roc_auc (dataset churn_test)": f"{scoped['test_roc_auc']:.4f}"[:5],
        "training_accuracy_score": "training_accuracy_score",
        "logged model id": model.model_id,
    }

    def resolves_to(number: str) -> dict[str, Check]:
        return {f"resolves to v{number}": lambda d: d[0]["resolution"]["version"] == int(number)}

    @plan(
        "q1_champion",
        "What is the champion and what are its metrics?",
        champion_facts,
        checks=resolves_to(champion.version),
    )
    async def q1(call: Call) -> None:
        await call("mlflow_get_model_version", model_name=MODEL, version_ref="champion")

    @plan("q1_champion_detailed", "(same, detailed)", champion_facts, checks=resolves_to(champion.version))
    async def q1d(call: Call) -> None:
        await call(
            "mlflow_get_model_version", model_name=MODEL, version_ref="champion", response_format="detailed"
        )

    autolog = t["autolog"]
    model_files = ("MLmodel", "requirements.txt", "model.pkl")
    run_facts = {
        "logged model id": t["autolog_model"],
        "estimator_name": autolog.data.tags["estimator_name"],
        "training_accuracy_score": "training_accuracy_score",
        "post-training metric": "RandomForestClassifier_score_X_test",
        **{f"model file {f}": f for f in model_files},
    }

    @plan("q2_run_logged", "What did run rf_autolog log?", run_facts)
    async def q2(call: Call) -> None:
        await call("mlflow_get_run", run_id=autolog.info.run_id)
        await call("mlflow_list_artifacts", run_id=autolog.info.run_id)

    @plan("q2_model_ref", "(its model by reference: models:/m-...)", {"logged model id": model.model_id})
    async def q2b(call: Call) -> None:
        await call("mlflow_get_model_version", model_name=MODEL, version_ref=f"models:/{model.model_id}")

    feature_facts = {f"feature {f}": f for f in world.features}

    exact = {
        "version's features are the signature's inputs": lambda d: (
            d[0]["features"]["features"] == world.features
        ),
        "run's features exclude the label": lambda d: d[1]["features"] == world.features,
    }

    @plan("q3_features", "Which features does the registered model take?", feature_facts, checks=exact)
    async def q3(call: Call) -> None:
        await call(
            "mlflow_get_model_version", model_name=MODEL, version_ref="champion", response_format="detailed"
        )
        await call("mlflow_get_run_features", run_id=champion.run_id)

    newest, previous = t["newest"], t["previous_top_level"]

    @plan(
        "q4_validate",
        "Validate the newest autolog run (expected_algorithm=RandomForestClassifier).",
        {"newest run": newest.info.run_id, "previous top-level run": previous.info.run_id},
        checks={"no check fails": lambda d: all(c["status"] != "fail" for c in d[0]["checks"])},
    )
    async def q4(call: Call) -> None:
        await call("validate_training_run", run_id="latest", expected_algorithm="RandomForestClassifier")

    best = t["best"]
    best_facts = {
        "best trial": best.info.run_name,
        "its run id": best.info.run_id,
        "its val_roc_auc": f"{best.data.metrics[SWEEP_METRIC]:.4f}"[:5],
        "learning_rate": best.data.params["learning_rate"],
    }

    @plan("q5_best_trial", "Which trial of the sweep was best?", best_facts)
    async def q5(call: Call) -> None:
        await call("mlflow_search_runs")  # an agent first finds the sweep ...
        await call(  # ... then, knowing MLflow's tags, its children by the sweep's metric
            "mlflow_search_runs",
            filter=f"tags.mlflow.parentRunId = '{world.runs['sweep']}'",
            order_by=[f"metrics.{SWEEP_METRIC} DESC"],
        )

    @plan("q5_sweep_parent", "(the sweep's parent run)", best_facts)
    async def q5b(call: Call) -> None:
        await call("mlflow_get_run", run_id=world.runs["sweep"])

    @plan("q5_sweep_children", "(its trials, best first, in one call)", best_facts)
    async def q5c(call: Call) -> None:
        await call("mlflow_search_runs", parent_run_id=world.runs["sweep"])

    production, alias = t["production"], t["production_alias"]
    production_facts = {"its run": production.run_id, "the conflicting alias's version": f"v{alias.version}"}
    in_stage = resolves_to(production.version)

    @plan(
        "q6_production",
        f"What is in Production? ({SWEEP_MODEL}: stage on v2, alias on v4)",
        production_facts,
        checks=in_stage,
    )
    async def q6(call: Call) -> None:
        await call("mlflow_get_model_version", model_name=SWEEP_MODEL, version_ref="Production")

    @plan("q6_models_uri", "(same, as models:/churn_gbm/Production)", production_facts, checks=in_stage)
    async def q6b(call: Call) -> None:
        await call("mlflow_get_model_version", version_ref=f"models:/{SWEEP_MODEL}/Production")

    @plan(
        "q6_alias",
        "(the alias: @production)",
        {"the alias's run": alias.run_id},
        checks={
            f"resolves to v{alias.version}": lambda d: d[0]["resolution"]["version"] == int(alias.version)
        },
    )
    async def q6c(call: Call) -> None:
        await call("mlflow_get_model_version", model_name=SWEEP_MODEL, version_ref="@production")

    @plan("x_experiment_note", "(the experiment's description)", {"note": "autologged scikit-learn"})
    async def x1(call: Call) -> None:
        await call("mlflow_list_experiments", name_contains="churn")

    return out


async def ask(world: Mlflow3World, full: bool = False) -> list[Asked]:
    from mcp import Client

    from mlflow_feast_mcp.core.settings import Settings
    from mlflow_feast_mcp.server.app import build_server

    t = truth(world)
    settings = Settings(
        tracking_uri=world.uri,
        feast_repo=Path(tempfile.mkdtemp()) / "no_feast_repo",
        default_experiment=world.experiment_name,  # a new user sets the defaults to their names
        default_model=MODEL,
    )
    answered = []
    async with Client(build_server(settings)) as client:
        for asked, fn in plans(world, t):

            async def call(tool: str, _asked: Asked = asked, **arguments: Any) -> str:
                result = await client.call_tool(tool, arguments)
                text = "\n".join(getattr(b, "text", "") for b in result.content or [])
                data = result.structured_content or {}
                structured = json.dumps(data) if data else ""
                _asked.calls.append(
                    {
                        "structured": data,
                        "tool": tool,
                        "args": arguments,
                        "text_chars": len(text),
                        "structured_chars": len(structured),
                        "error": bool(result.is_error),
                        "text": text,
                    }
                )
                return text

            await fn(call)
            answered.append(asked)
    return answered


def markdown(answered: list[Asked]) -> str:
    lines = [
        f"| question | calls | text chars (~tokens = chars/{CHARS_PER_TOKEN}) | structured chars | errors | facts missing |",
        "|---|---|---:|---:|---:|---|",
    ]
    for a in answered:
        calls = "<br>".join(
            f"`{c['tool']}({', '.join(f'{k}={v!r}' for k, v in c['args'].items())})`" for c in a.calls
        )
        text = sum(c["text_chars"] for c in a.calls)
        structured = sum(c["structured_chars"] for c in a.calls)
        errors = sum(c["error"] for c in a.calls)
        missing = ", ".join(a.missing()) or "none"
        lines.append(f"| {a.question} | {calls} | {text} | {structured} | {errors} | {missing} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the answers (and with --full their text) here")
    parser.add_argument("--full", action="store_true", help="print every answer's text on stderr")
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "20")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    from support.mlflow3_world import log_mlflow3_world
    from support.servers import MlflowServer

    with tempfile.TemporaryDirectory(prefix="mlflow3-questions-") as tmp:
        server = MlflowServer(Path(tmp) / "mlflow").start()
        try:
            log(f"logging the MLflow 3 world into {server.uri} ...")
            with contextlib.redirect_stdout(sys.stderr):  # MLflow prints run links on stdout
                world = log_mlflow3_world(server.uri, Path(tmp) / "scratch")
            answered = asyncio.run(ask(world))
        finally:
            server.stop()
    if args.full:
        for a in answered:
            for c in a.calls:
                log(
                    f"\n===== {a.key}: {c['tool']}({c['args']}) text={c['text_chars']} error={c['error']}\n{c['text']}"
                )
    print(markdown(answered))
    if args.json:
        rows = [
            {"key": a.key, "question": a.question, "missing": a.missing(), "calls": a.calls if args.full else
             [{k: v for k, v in c.items() if k not in ("text", "structured")} for c in a.calls]}
            for a in answered
        ]  # fmt: skip
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
