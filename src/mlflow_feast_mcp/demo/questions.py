"""The seed's questions over the demo world, each with the one tool call that answers it and a
one-paragraph answer built from the call's structured content. The demo asks these, and the
README's "In use on the demo data" table lists the same questions and calls (a test keeps the two
in step)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MODEL = "game_winner_model"  # seeder.MODEL_NAME, without importing the seeder's numpy/pandas


@dataclass(frozen=True)
class Question:
    text: str
    tool: str
    arguments: dict[str, Any] = field(default_factory=dict)
    answer: Callable[[dict[str, Any]], str] = repr

    def call_text(self) -> str:
        """The call as the README writes it: `tool(key=<json value>, ...)`."""
        args = ", ".join(f"{k}={json.dumps(v)}" for k, v in self.arguments.items())
        return f"{self.tool}({args})"


def _num(value: Any) -> str:
    return f"{value}" if value is not None else "n/a"


def _features_line(features: list[str], limit: int = 30) -> str:
    shown = ", ".join(features[:limit])
    return shown + (f", ... (+{len(features) - limit})" if len(features) > limit else "")


def _version_line(v: dict[str, Any]) -> str:
    ver, run = v.get("version", {}), v.get("run") or {}
    metrics = run.get("metrics", {})
    aliases = ver.get("aliases") or []
    return (
        f"v{ver.get('version')} (stage {ver.get('stage')}"
        + (f", aliases {', '.join('@' + a for a in aliases)}" if aliases else "")
        + f"): run {run.get('run_name')} - {run.get('algorithm')} {run.get('model_version')}, "
        f"{run.get('feature_count')} features, test_accuracy={_num(metrics.get('test_accuracy'))}"
    )


def _latest_features(data: dict[str, Any]) -> str:
    return (
        f"run {data.get('run_name')} ({data.get('run_id', '')[:8]}) used {data.get('feature_count')} "
        f"features (from {data.get('source')}): {_features_line(data.get('features', []))}. "
        f"Top: {', '.join(data.get('top_features', [])[:5])}."
    )


def _last_test_accuracy(data: dict[str, Any]) -> str:
    runs = data.get("runs") or []
    if not runs:
        return "no finished run."
    run = runs[0]
    return (
        f"test_accuracy={_num(run.get('metrics', {}).get('test_accuracy'))} in the newest finished run "
        f"{run.get('run_name')} ({run.get('algorithm')} {run.get('model_version')}, "
        f"{run.get('status')}, started {run.get('start_time')})."
    )


def _production(data: dict[str, Any]) -> str:
    res = data.get("resolution", {})
    conflicts = res.get("conflicts") or []
    return f"{res.get('model_name')} {_version_line(data)}, resolved by {res.get('resolved_by')}." + (
        f" CONFLICT: {'; '.join(conflicts)}." if conflicts else " No alias/stage conflict."
    )


def _staging_vs_production(data: dict[str, Any]) -> str:
    headline = ("algorithm", "model_version", "feature_count")
    params = {k: v for k, v in data.get("param_changes", {}).items() if k in headline}
    metric = data.get("metric_deltas", {}).get("test_accuracy")
    diff = next(iter(data.get("feature_changes", [])), {})
    runs = data.get("runs", [{}, {}])
    versions = data.get("versions") or ["Production", "Staging"]
    parts = [
        f"{versions[0]}: run {runs[0].get('run_name')}; {versions[1]}: run {runs[1].get('run_name')}.",
        "Changed: "
        + (", ".join(f"{k} {v[0]} -> {v[1]}" for k, v in params.items()) or "no headline params")
        + ".",
    ]
    if metric:
        parts.append(
            f"test_accuracy {metric['values'][0]} -> {metric['values'][1]} "
            f"(delta {(metric.get('deltas') or ['n/a'])[0]})."
        )
    parts.append(
        f"Features added in Staging: {', '.join(diff.get('added', [])) or 'none'}; "
        f"removed: {', '.join(diff.get('removed', [])) or 'none'}."
    )
    return " ".join(parts)


def _view_fields(data: dict[str, Any]) -> str:
    fields = data.get("fields", [])
    entities = ", ".join(e.get("join_key", e.get("name", "")) for e in data.get("entities", []))
    return (
        f"{data.get('name')} ({data.get('kind', 'feature view')}, keyed by {entities or 'n/a'}) "
        f"defines {len(fields)} features: "
        + ", ".join(f"{f.get('name')}:{f.get('dtype')}" for f in fields)
        + "."
    )


def _alignment(data: dict[str, Any]) -> str:
    views = ", ".join(f"{view} ({n})" for view, n in (data.get("by_view") or {}).items()) or "none"
    subject = data.get("model_version") or f"run {data.get('run_name')}"
    return f"{subject}: {data.get('verdict')}. Feast views backing its features: {views}."


def _spot_check(data: dict[str, Any]) -> str:
    newest = data.get("newest") or {}
    writers = "; ".join(
        f"v{w.get('model_version')} ({w.get('stage')}): {w.get('rows')} rows" for w in data.get("writers", [])
    )
    batches = data.get("batch_count", 0)
    line = (
        f"{data.get('verdict')}. {data.get('rows', 0)} rows in {batches} batch{'' if batches == 1 else 'es'}"
    )
    if newest:
        line += (
            f"; newest: probability {newest.get('probability_min')}..{newest.get('probability_max')} "
            f"(mean {newest.get('probability_mean')} vs test_accuracy {newest.get('writer_test_accuracy')})"
        )
    return line + (f". Written by {writers}." if writers else ".")


QUESTIONS: tuple[Question, ...] = (
    Question(
        "Which features did the latest run use?",
        "mlflow_get_run_features",
        {"run_id": "latest"},
        _latest_features,
    ),
    Question(
        "What was the last test_accuracy?",
        "mlflow_search_runs",
        {"page_size": 1, "filter": "attributes.status = 'FINISHED'"},
        _last_test_accuracy,
    ),
    Question(
        "What is in Production?",
        "mlflow_get_model_version",
        {"version_ref": "Production"},
        _production,
    ),
    Question(
        "How does Staging differ from Production?",
        "mlflow_compare_runs",
        {"run_ids": [f"{MODEL}/Production", f"{MODEL}/Staging"]},
        _staging_vs_production,
    ),
    Question(
        "Which features does game_features define, with types?",
        "feast_describe_feature_view",
        {"name": "game_features"},
        _view_fields,
    ),
    Question(
        "Which Feast views back the Production model's features?",
        "check_feature_alignment",
        {"run_or_model": f"{MODEL}/Production"},
        _alignment,
    ),
    Question(
        "Does feature_repo match the last run?",
        "check_feature_alignment",
        {"run_or_model": "latest"},
        _alignment,
    ),
    Question(
        "Do the latest predictions in ml_dev.predictions come from the Production model?",
        "predictions_spot_check",
        {"version_ref": "Production"},
        _spot_check,
    ),
)
