"""Runs of an experiment, one compact row each: MLflow's filter and order syntax, paged. Top-level
runs by default, each with its number of children (a sweep's trials); children on request, or the
children of one parent, best first by the sweep's metric when it is evident."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import PrivateAttr

from ..backends.mlflow_api import MlflowApi
from ..backends.mlflow_models import Run
from ..core.errors import InvalidArgument, quote
from ..core.paging import PageInfo, Pager
from ..core.render import scalar, table
from . import conventions as conv
from .experiment_profile import check_filter_keys
from .mlflow_lookup import resolve_experiment, resolve_run
from .runs import KEY_METRICS, RunSummary, summarize_run
from .sweeps import child_counts, children_of, sweep_metric

STATUSES = {"FINISHED", "FAILED", "RUNNING", "KILLED", "SCHEDULED"}
ROW_OTHERS = 3  # metrics per row beyond the key and asked-for ones


class RunSearchPage(PageInfo):
    experiment: str
    experiment_id: str
    scope: str
    order_by: list[str]
    runs: list[RunSummary]
    note: str | None = None
    _columns: list[str] = PrivateAttr(default_factory=list)  # metrics shown as columns (key, asked for)
    _children_of: bool = PrivateAttr(False)

    def render_text(self) -> str:
        head = (
            f"experiment: {scalar(self.experiment)} (id {self.experiment_id}); {self.scope}; "
            f"order: {', '.join(scalar(o) for o in self.order_by)}"
        )
        columns = [k for k in self._columns if any(k in r.metrics for r in self.runs)]
        lines = [head, f"runs ({len(self.runs)}):" if self.runs else "runs: none match"]
        if self.runs:
            lines += table([self._row(r, columns) for r in self.runs], "  ")
        lines += [self.note] if self.note else []
        return "\n".join(lines + self.paging_lines())

    def _row(self, r: RunSummary, columns: list[str]) -> dict[str, object]:
        others = [f"{k}={scalar(v)}" for k, v in r.metrics.items() if k not in columns]
        if r.more_metrics:
            others.append(f"+{r.more_metrics}")
        return {
            "run_name": r.run_name,
            "run_id": r.run_id,
            "start_time": r.start_time,
            "status": r.status,
            "parent_run_id": None if self._children_of else r.parent_run_id,
            "children": r.child_runs,
            "model_version": r.model_version,
            "algorithm": r.algorithm,
            "feature_count": r.feature_count,
            **{k: r.metrics.get(k) for k in columns},
            "other metrics": ", ".join(others) or None,
        }


_METRIC_NAME = re.compile(r"metrics\.(`[^`]+`|\"[^\"]+\"|[\w.\-/]+)")


def named_metrics(texts: list[str]) -> list[str]:
    """The metric keys that filter and order-by strings name (`metrics.val_auc`, ``metrics.`a b` ``)."""
    found = [m.group(1).strip('`"') for text in texts for m in _METRIC_NAME.finditer(text)]
    return list(dict.fromkeys(found))


def filter_clauses(filter_string: str | None, status: str | None) -> list[str]:
    """The caller's filter plus a status clause, checked for what MLflow would misread."""
    clauses = [filter_string.strip()] if filter_string and filter_string.strip() else []
    if status:
        wanted = status.strip().upper()
        if wanted not in STATUSES:
            raise InvalidArgument(f"status must be FINISHED, FAILED, RUNNING or KILLED, not {quote(status)}.")
        clauses.append(f"attributes.status = '{wanted}'")
    if any(ch in (filter_string or "") for ch in "\x00\r\n"):
        raise InvalidArgument("filter must be a single line of MLflow filter syntax.")
    return clauses


async def search_runs(
    api: MlflowApi,
    experiment: str,
    filter_string: str | None,
    status: str | None,
    order_by: list[str] | None,
    page_size: int,
    page_token: str | None,
    budget: int,
    *,
    key_metrics: Sequence[str] = KEY_METRICS,
    include_children: bool = False,
    parent_run: str | None = None,
) -> RunSearchPage:
    exp = await resolve_experiment(api, experiment)
    clauses = filter_clauses(filter_string, status)
    # the metrics a filter or an order names become columns, besides the key metrics
    asked = named_metrics([filter_string or "", *(order_by or [])])
    scope, order, parent = "top-level runs", order_by, None
    if parent_run:
        parent = await resolve_run(api, parent_run, exp.name)
        clauses.append(f"tags.{conv.PARENT_TAG} = '{parent.run_id}'")
        scope = f"children of {scalar(parent.run_name)} ({parent.run_id})"
        picked = await _sweep_metric(api, parent, key_metrics)
        if picked:
            asked.append(picked[0])
            quoted = picked[0] if picked[0].replace("_", "").isalnum() else f"`{picked[0]}`"
            order = order_by or [f"metrics.{quoted} {'ASC' if picked[1] else 'DESC'}"]
    elif include_children or (filter_string or "").strip():
        # a filter asks which runs match, sweep trials included ("how many runs used xgboost?");
        # browsing without one shows the top-level runs with their child counts
        scope = "all runs, children included"
    else:
        clauses.append(f"tags.{conv.PARENT_TAG} IS NULL")
    order = [o.strip() for o in (order or ["attributes.start_time DESC"]) if o.strip()]
    keys = list(dict.fromkeys([*key_metrics, *asked]))
    pager = Pager.open("mlflow_search_runs", page_token, exp.experiment_id, clauses, order, page_size)
    rows, next_cursor = await api.search_runs(
        [exp.experiment_id], " and ".join(clauses), order, page_size, pager.backend_token, "ACTIVE_ONLY"
    )
    if not rows and filter_string and page_token is None:  # a misspelt key matches nothing: say so
        await check_filter_keys(api, exp, filter_string)
    summaries, note = await _summaries(api, exp.experiment_id, rows, keys, counted=not parent)
    if scope == "top-level runs" and any(s.child_runs for s in summaries):
        note = (note or "") + (
            "Children are hidden: mlflow_search_runs(parent_run_id=...) lists one run's children best "
            "first, include_children=true lists them all."
        )

    def build(items: list[RunSummary], info: PageInfo) -> RunSearchPage:
        page = RunSearchPage(
            experiment=exp.name,
            experiment_id=exp.experiment_id,
            scope=scope,
            order_by=order,
            runs=items,
            note=note or None,
            **info.model_dump(),
        )
        page._columns, page._children_of = keys, parent is not None
        return page

    return pager.page(summaries, build, budget, next_cursor)


async def _summaries(
    api: MlflowApi, experiment_id: str, rows: list[Run], keys: list[str], counted: bool
) -> tuple[list[RunSummary], str | None]:
    """Row summaries, with child counts for the rows that have children."""
    summaries = [summarize_run(r, keys, ROW_OTHERS) for r in rows]
    if not counted:
        return summaries, None
    counts, cut = await child_counts(api, experiment_id, rows)
    for summary in summaries:
        summary.child_runs = counts.get(summary.run_id) or None
    return summaries, "Child counts are lower bounds (many nested runs). " if cut else None


async def _sweep_metric(api: MlflowApi, parent: Run, key_metrics: Sequence[str]) -> tuple[str, bool] | None:
    """The sweep's metric and whether lower is better, when its trials make it evident."""
    children, _ = await children_of(api, parent, 200)
    picked = sweep_metric(parent, children, key_metrics)
    return (picked[0], picked[1]) if picked else None
