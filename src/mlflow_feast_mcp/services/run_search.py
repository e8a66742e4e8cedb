"""Runs of an experiment, one compact row each: MLflow's filter and order syntax, paged."""

from __future__ import annotations

from ..backends.mlflow_api import MlflowApi
from ..core.errors import InvalidArgument
from ..core.paging import PageInfo, Pager
from ..core.render import table
from .experiment_profile import check_filter_keys
from .mlflow_lookup import resolve_experiment
from .runs import KEY_METRICS, RunSummary, summarize_run

STATUSES = {"FINISHED", "FAILED", "RUNNING", "KILLED", "SCHEDULED"}


class RunSearchPage(PageInfo):
    experiment: str
    experiment_id: str
    order_by: list[str]
    runs: list[RunSummary]

    def render_text(self) -> str:
        head = f"experiment: {self.experiment} (id {self.experiment_id}); order: {', '.join(self.order_by)}"
        metric_keys: list[str] = []
        for run in self.runs:
            metric_keys += [k for k in run.metrics if k not in metric_keys]
        rows = [
            {
                "run_name": r.run_name,
                "run_id": r.run_id,
                "start_time": r.start_time,
                "status": r.status,
                "model_version": r.model_version,
                "algorithm": r.algorithm,
                "feature_count": r.feature_count,
                **{k: r.metrics.get(k) for k in metric_keys},
            }
            for r in self.runs
        ]
        lines = [head, f"runs ({len(rows)}):" if rows else "runs: none match"]
        if rows:
            lines += table(rows, "  ")
        return "\n".join(lines + self.paging_lines())


def filter_clauses(filter_string: str | None, status: str | None) -> list[str]:
    """The caller's filter plus a status clause, checked for what MLflow would misread."""
    clauses = [filter_string.strip()] if filter_string and filter_string.strip() else []
    if status:
        wanted = status.strip().upper()
        if wanted not in STATUSES:
            raise InvalidArgument(f"status must be FINISHED, FAILED, RUNNING or KILLED, not {status!r}.")
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
    metric_keys: list[str] | None,
    page_size: int,
    page_token: str | None,
    budget: int,
) -> RunSearchPage:
    exp = await resolve_experiment(api, experiment)
    clauses = filter_clauses(filter_string, status)
    order = [o.strip() for o in (order_by or ["attributes.start_time DESC"]) if o.strip()]
    keys = list(KEY_METRICS) + [k for k in metric_keys or [] if k not in KEY_METRICS]
    pager = Pager.open("mlflow_search_runs", page_token, exp.experiment_id, clauses, order, page_size)
    rows, next_cursor = await api.search_runs(
        [exp.experiment_id], " and ".join(clauses), order, page_size, pager.backend_token, "ACTIVE_ONLY"
    )
    if not rows and filter_string and page_token is None:  # a misspelt key matches nothing: say so
        await check_filter_keys(api, exp, filter_string)
    return pager.page(
        [summarize_run(r, keys) for r in rows],
        lambda items, info: RunSearchPage(
            experiment=exp.name,
            experiment_id=exp.experiment_id,
            order_by=order,
            runs=items,
            **info.model_dump(),
        ),
        budget,
        next_cursor,
    )
