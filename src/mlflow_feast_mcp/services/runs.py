"""Runs as the seed logs them, summarised for an agent: names first, ISO times, the seed's params
(`model_version`, `algorithm`, `feature_count`) and metrics up front, `features_part*` folded."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field

from ..backends.mlflow_api import Json
from ..core.formatting import clip, iso_from_ms, round_number

KEY_METRICS = ("test_accuracy", "train_accuracy", "training_samples", "test_samples")
FEATURE_PART = re.compile(r"^features_part(\d+)$")
# Tags worth an agent's attention; the rest (mlflow.source.git.*, log-model history...) is noise.
USEFUL_TAGS = (
    "mlflow.runName",
    "mlflow.user",
    "mlflow.source.name",
    "mlflow.source.git.commit",
    "mlflow.note.content",
    "mlflow.parentRunId",
    "feast.feature_service",
    "feast.feature_views",
)


class RunSummary(BaseModel):
    """One run in a line: who, when, status, the seed's headline params and metrics."""

    run_id: str
    run_name: str | None = None
    start_time: str | None = Field(None, description="ISO 8601 UTC")
    status: str
    model_version: str | None = None
    algorithm: str | None = None
    feature_count: int | None = None
    metrics: dict[str, float | int] = {}


def params_of(run: Json) -> dict[str, str]:
    return {p["key"]: p.get("value", "") for p in run.get("data", {}).get("params", [])}


def tags_of(run: Json) -> dict[str, str]:
    return {t["key"]: t.get("value", "") for t in run.get("data", {}).get("tags", [])}


def metrics_of(run: Json) -> dict[str, float | int]:
    return {
        m["key"]: round_number(float(m["value"]))
        for m in run.get("data", {}).get("metrics", [])
        if "value" in m
    }


def run_name_of(run: Json) -> str | None:
    return run["info"].get("run_name") or tags_of(run).get("mlflow.runName")


def _int_or_none(text: str | None) -> int | None:
    try:
        return int(float(text)) if text not in (None, "") else None
    except ValueError:
        return None


def summarize_run(run: Json, metric_keys: tuple[str, ...] | list[str] = KEY_METRICS) -> RunSummary:
    info, params, metrics = run["info"], params_of(run), metrics_of(run)
    feature_count = _int_or_none(params.get("feature_count"))
    if feature_count is None:
        folded = fold_feature_parts(params)
        feature_count = len(folded) if folded else None
    return RunSummary(
        run_id=info["run_id"],
        run_name=run_name_of(run),
        start_time=iso_from_ms(info.get("start_time")),
        status=info.get("status", "UNKNOWN"),
        model_version=params.get("model_version"),
        algorithm=params.get("algorithm"),
        feature_count=feature_count,
        metrics={k: metrics[k] for k in metric_keys if k in metrics},
    )


def fold_feature_parts(params: dict[str, str], expected_count: int | None = None) -> list[str]:
    """Join `features_part0..N` back into the ordered feature list.

    Parts may be JSON lists or comma-separated chunks. A training job that chunks by characters
    (to fit MLflow's 6,000-char param limit) can split a name across two parts; when
    `feature_count` is known, the join that yields that count wins."""
    parts = sorted(
        ((int(m.group(1)), value) for key, value in params.items() if (m := FEATURE_PART.match(key))),
        key=lambda item: item[0],
    )
    if not parts:
        return []
    values = [value for _, value in parts]
    as_lists: list[str] = []
    try:
        import json

        for value in values:
            parsed = json.loads(value)
            if not isinstance(parsed, list):
                raise ValueError
            as_lists.extend(str(v) for v in parsed)
        return as_lists
    except ValueError:
        pass
    by_item = [f.strip() for f in ",".join(values).split(",") if f.strip()]
    by_char = [f.strip() for f in "".join(values).split(",") if f.strip()]
    if expected_count is not None and len(by_char) == expected_count != len(by_item):
        return by_char
    return by_item


def parse_top_features(text: str | None) -> dict[str, float]:
    """`top_features` as name -> importance; accepts JSON (dict or list) or 'name:0.12, ...'."""
    if not text:
        return {}
    import json

    try:
        parsed: Any = json.loads(text)
    except ValueError:
        parsed = None
    out: dict[str, float] = {}
    if isinstance(parsed, dict):
        for k, v in parsed.items():
            if isinstance(v, (int, float)):
                out[str(k)] = float(v)
        return out
    if isinstance(parsed, list):
        for item in parsed:
            if isinstance(item, dict):
                name = item.get("feature") or item.get("name")
                value = item.get("importance", item.get("value"))
                if name is not None and isinstance(value, (int, float)):
                    out[str(name)] = float(value)
            elif isinstance(item, (list, tuple)) and len(item) == 2:
                out[str(item[0])] = float(item[1])
            elif isinstance(item, str):
                out[item] = float("nan")
        return {k: v for k, v in out.items()}
    for chunk in re.split(r"[,;\n]", text):
        name, sep, value = chunk.strip().rpartition(":")
        if not sep:
            name, sep, value = chunk.strip().rpartition("=")
        try:
            out[name.strip().strip("'\"")] = float(value)
        except ValueError:
            if chunk.strip():
                out[chunk.strip()] = float("nan")
    return out


def useful_tags(run: Json, limit: int = 300) -> dict[str, str]:
    tags = tags_of(run)
    chosen = {k: clip(tags[k], limit) for k in USEFUL_TAGS if k in tags}
    chosen.update(
        {k: clip(v, limit) for k, v in tags.items() if not k.startswith("mlflow.") and k not in chosen}
    )
    chosen.pop("mlflow.runName", None)
    return chosen
