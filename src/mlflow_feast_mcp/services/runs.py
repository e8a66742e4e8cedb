"""Runs summarised for an agent: names first, ISO times, the headline params (`model_version`,
`algorithm`, `feature_count`, by the names in `conventions`), the key metrics first and then the
others, bounded and counted, `features_part*` folded."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from ..backends.mlflow_models import Run
from ..core import safe_json
from ..core.formatting import clip, iso_from_ms, round_number
from ..core.render import scalar
from ..core.settings import DEFAULT_KEY_METRICS
from . import conventions as conv

KEY_METRICS = tuple(DEFAULT_KEY_METRICS)  # the default of Settings.key_metrics
FEATURE_PART = conv.FEATURE_PART
SUMMARY_OTHERS = 5  # metrics beyond the key ones in a one-line summary; the rest are counted
MORE_METRICS_HINT = "mlflow_get_run(response_format='detailed') lists every metric"
# Tags worth an agent's attention; the rest (mlflow.source.git.*, log-model history...) is noise.
USEFUL_TAGS = (
    "mlflow.runName",
    "mlflow.user",
    "mlflow.source.name",
    "mlflow.source.git.commit",
    "feast.feature_service",
    "feast.feature_views",
)


class RunSummary(BaseModel):
    """One run in a line: who, when, status, the headline params and metrics."""

    run_id: str
    run_name: str | None = None
    start_time: str | None = Field(None, description="ISO 8601 UTC")
    status: str
    model_version: str | None = None
    algorithm: str | None = None
    feature_count: int | None = None
    parent_run_id: str | None = Field(None, description="its sweep's run")
    child_runs: int | None = Field(None, description="nested runs (trials)")
    metrics: dict[str, float | int] = Field({}, description="key metrics first")
    more_metrics: int | None = Field(None, description="metrics not shown")
    nonfinite: list[str] = Field([], description="metrics whose last value is NaN or infinite")
    deleted: bool = Field(False, description="in MLflow's trash (lifecycle_stage deleted)")


def metrics_text(metrics: dict[str, float | int], more: int | None, how: str = MORE_METRICS_HINT) -> str:
    """`k=v, k=v (+3 more metrics: <how>)`; 'no metrics' only when there are none."""
    shown = ", ".join(f"{scalar(k)}={scalar(v)}" for k, v in metrics.items())
    if more:
        shown += f"{' ' if shown else ''}(+{more} more metrics: {how})"
    return shown or "no metrics"


HEADLINE = ("algorithm", "model_version", "feature_count")  # the params a run line shows


def run_line(run: RunSummary, told_elsewhere: frozenset[str] = frozenset()) -> str:
    """A run in one line of text: name, id, status, algorithm and version, features, metrics, but
    not the `HEADLINE` fields or `metrics` the answer tells elsewhere (start times are in the
    structured content and in search results)."""
    named = [x for x in (run.algorithm, run.model_version) if x]
    headline = {"algorithm", "model_version"} & told_elsewhere
    what = (
        ", " + " ".join(scalar(x) for x in named) if named else "" if headline else ", no algorithm recorded"
    )
    features = f", {run.feature_count} features" if run.feature_count is not None else ""
    parent = f", trial of {run.parent_run_id}" if run.parent_run_id else ""
    told = [] if "metrics" in told_elsewhere else [metrics_text(run.metrics, run.more_metrics)]
    if run.nonfinite:
        told.append("not finite: " + ", ".join(scalar(x) for x in run.nonfinite))
    status = f"{run.status}, DELETED (in MLflow's trash)" if run.deleted else run.status
    return f"run {scalar(run.run_name)} ({run.run_id}): {status}{what}{features}{parent}" + "".join(
        f"; {t}" for t in told
    )


def metrics_of(run: Run) -> dict[str, float | int]:
    """The run's finite metrics rounded for reading (and for deltas, so they match what is shown);
    NaN and infinite values are named by `nonfinite_metrics` instead (JSON has no number for them)."""
    return {key: round_number(value) for key, value in run.metrics.items() if math.isfinite(value)}


def nonfinite_metrics(run: Run) -> list[str]:
    """'val_loss=NaN', 'grad_norm=inf': the metrics whose last value is not a finite number."""
    return [
        f"{key}={value}".replace("nan", "NaN")
        for key, value in run.metrics.items()
        if not math.isfinite(value)
    ]


def int_or_none(text: str | None) -> int | None:
    try:
        return int(float(text)) if text not in (None, "") else None
    except ValueError:
        return None


def pick_metrics(
    metrics: dict[str, float | int], key_metrics: Sequence[str], others: int | None
) -> tuple[dict[str, float | int], int | None]:
    """The key metrics present, then up to `others` more in convention order (all when None), and
    how many were left out."""
    ordered = conv.metric_order(list(metrics), key_metrics)
    keys = [k for k in ordered if k in key_metrics]
    rest = [k for k in ordered if k not in key_metrics]
    shown = keys + (rest if others is None else rest[:others])
    return {k: metrics[k] for k in shown}, (len(ordered) - len(shown)) or None


def summarize_run(
    run: Run, key_metrics: Sequence[str] = KEY_METRICS, others: int | None = SUMMARY_OTHERS
) -> RunSummary:
    params = run.params
    feature_count = int_or_none(params.get(conv.FEATURE_COUNT))
    if feature_count is None:
        folded = fold_feature_parts(params)
        feature_count = len(folded) if folded else None
    shown, more = pick_metrics(metrics_of(run), key_metrics, others)
    return RunSummary(
        run_id=run.run_id,
        run_name=run.run_name,
        start_time=iso_from_ms(run.start_time),
        status=run.status,
        model_version=params.get(conv.MODEL_VERSION),
        algorithm=conv.algorithm_of(run),
        feature_count=feature_count,
        parent_run_id=conv.parent_of(run),
        metrics=shown,
        more_metrics=more,
        nonfinite=nonfinite_metrics(run),
        deleted=run.lifecycle_stage == "deleted",
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
        for value in values:
            parsed = safe_json.loads(value)
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


def parse_top_features(text: str | None) -> dict[str, float | None]:
    """`top_features` as name -> importance (None when only names were logged), best first.

    Accepts JSON (a dict, a list of {feature, importance}, of [name, value] pairs or of names) or
    plain text like 'home_elo:0.12, rest_days:0.08'."""
    if not text:
        return {}
    try:
        parsed: Any = safe_json.loads(text)
    except ValueError:
        parsed = None
    pairs: list[tuple[str, Any]] = []
    if isinstance(parsed, dict):
        pairs = list(parsed.items())
    elif isinstance(parsed, list):
        for item in parsed:
            if isinstance(item, dict):
                pairs.append(
                    (item.get("feature") or item.get("name"), item.get("importance", item.get("value")))
                )
            elif isinstance(item, (list, tuple)) and len(item) == 2:
                pairs.append((item[0], item[1]))
            else:
                pairs.append((item, None))
    else:
        for chunk in re.split(r"[,;\n]", text):
            name, sep, value = chunk.strip().rpartition(":")
            if not sep:
                name, sep, value = chunk.strip().rpartition("=")
            pairs.append((name, value) if sep else (chunk.strip(), None))
    out: dict[str, float | None] = {}
    for name, value in pairs:
        if name in (None, ""):
            continue
        try:
            out[str(name).strip().strip("'\"")] = float(value) if value is not None else None
        except (TypeError, ValueError):
            out[str(name).strip()] = None
    return out


def useful_tags(run: Run, limit: int = 300) -> dict[str, str]:
    tags = run.tags
    chosen = {k: clip(tags[k], limit) for k in USEFUL_TAGS if k in tags}
    chosen.update(
        {k: clip(v, limit) for k, v in tags.items() if not k.startswith("mlflow.") and k not in chosen}
    )
    chosen.pop("mlflow.runName", None)
    return chosen


def description_of(run: Run, limit: int = 2000) -> str | None:
    """The run's description (`mlflow.note.content`, what the MLflow UI edits), clipped."""
    note = conv.description_of(run.tags)
    return clip(note, limit) if note else None
