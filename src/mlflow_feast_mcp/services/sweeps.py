"""Sweeps: runs nested under a parent (`mlflow.parentRunId`), as a hand-made hyperparameter search or
autolog's GridSearchCV logs them. Children are counted for search rows, listed best first on the
parent when the sweep's metric is evident, and always named with their parent."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from ..backends.mlflow_api import MlflowApi
from ..backends.mlflow_models import Run
from ..core.formatting import clip, round_number
from . import conventions as conv

CHILD_SCAN = 1000  # children read per page of search rows (for counts) and per parent
SHOWN_CHILDREN = 10


class ChildRun(BaseModel):
    run_id: str
    run_name: str | None = None
    status: str
    metric: float | int | None = None
    params: dict[str, str] = Field({}, description="those that vary")


class SweepSummary(BaseModel):
    child_count: int
    counted_all: bool = Field(True, description=f"false past {CHILD_SCAN}")
    metric: str | None = Field(None, description="what ranks them")
    order: str | None = None
    why: str | None = None
    children: list[ChildRun] = []
    more_children: int | None = None


def _escaped(run_id: str) -> str:
    return run_id.replace("'", "")


async def children_of(api: MlflowApi, parent: Run, limit: int = CHILD_SCAN) -> tuple[list[Run], bool]:
    """The parent's children (newest first) and whether there are more than `limit`."""
    rows, token = await api.search_runs(
        [parent.experiment_id],
        f"tags.{conv.PARENT_TAG} = '{_escaped(parent.run_id)}'",
        ["attributes.start_time DESC"],
        limit,
        None,
        "ACTIVE_ONLY",
    )
    return rows, token is not None


async def child_counts(
    api: MlflowApi, experiment_id: str, parents: Sequence[Run]
) -> tuple[dict[str, int], bool]:
    """How many children each of `parents` has, from one search: children start no earlier than
    their parent. The bool says the scan was cut (counts are then lower bounds)."""
    starts = [r.start_time for r in parents if r.start_time]
    if not parents or not starts:
        return {}, False
    rows, token = await api.search_runs(
        [experiment_id],
        f"tags.{conv.PARENT_TAG} IS NOT NULL and attributes.start_time >= {min(starts)}",
        ["attributes.start_time DESC"],
        CHILD_SCAN,
        None,
        "ACTIVE_ONLY",
    )
    wanted = {r.run_id for r in parents}
    counts: dict[str, int] = {}
    for row in rows:
        parent = conv.parent_of(row)
        if parent in wanted:
            counts[parent] = counts.get(parent, 0) + 1
    return counts, token is not None


def sweep_metric(
    parent: Run, children: list[Run], key_metrics: Sequence[str]
) -> tuple[str, bool, str] | None:
    """(metric, lower_is_better, why) when the sweep's metric is evident: a parent param naming a
    metric its trials logged, GridSearchCV's rank/mean test score, else a key metric or test score
    every trial logged."""
    if not children:
        return None
    logged = set.intersection(*(set(c.metrics) for c in children))
    for key in conv.SWEEP_METRIC_PARAMS:
        named = parent.params.get(key, "").strip()
        if named in logged:
            return named, conv.lower_is_better(named), f"the parent's param {key}"
    for metric in conv.SEARCH_METRICS:
        if metric in logged:
            return metric, conv.lower_is_better(metric), "a search's candidate ranking"
    candidates = [k for k in key_metrics if k not in conv.SAMPLE_COUNTS]
    for metric in (*candidates, conv.test_score_key(dict.fromkeys(logged, 0))):
        if metric and metric in logged:
            return metric, conv.lower_is_better(metric), "logged by every trial"
    return None


def varying_params(children: list[Run], limit: int = 6) -> list[str]:
    """The params whose values differ between trials (what the sweep searched over)."""
    keys = sorted({k for c in children for k in c.params})
    varying = [k for k in keys if len({c.params.get(k) for c in children}) > 1]
    return varying[:limit]


def summarize_sweep(
    parent: Run, children: list[Run], more: bool, key_metrics: Sequence[str], shown: int = SHOWN_CHILDREN
) -> SweepSummary:
    picked = sweep_metric(parent, children, key_metrics)
    ordered = list(children)
    if picked:
        metric, lower, _ = picked
        ordered.sort(key=lambda c: c.metrics[metric], reverse=not lower)
    keys = varying_params(children)
    rows = [
        ChildRun(
            run_id=c.run_id,
            run_name=c.run_name,
            status=c.status,
            metric=round_number(c.metrics[picked[0]]) if picked else None,
            params={k: clip(c.params[k], 60) for k in keys if k in c.params},
        )
        for c in ordered[:shown]
    ]
    return SweepSummary(
        child_count=len(children),
        counted_all=not more,
        metric=picked[0] if picked else None,
        order=("lower is better" if picked[1] else "higher is better") if picked else None,
        why=picked[2] if picked else None,
        children=rows,
        more_children=(len(children) - len(rows)) or None,
    )
