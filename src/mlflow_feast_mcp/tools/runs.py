"""Experiments and runs: list, search, one run in full, its features, comparisons, metric curves."""

from __future__ import annotations

from typing import Annotated

from mcp.server import MCPServer
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from ..core.errors import InvalidArgument, not_found
from ..core.formatting import clip, iso_from_ms, round_number
from ..core.paging import decode_page_token, query_scope
from ..core.render import render, table
from ..core.results import tool_result
from ..server.backends import Backends
from ..services.comparison import RunComparison, compare_runs, comparison_text
from ..services.features import RunFeatures, features_text, run_features
from ..services.metric_history import MetricHistory, summarize_history
from ..services.mlflow_lookup import resolve_experiment, resolve_run
from ..services.registry import looks_like_model_ref, parse_model_ref, source_run_of_version
from ..services.run_detail import RunDetail, build_run_detail, fit_run_detail
from ..services.runs import KEY_METRICS, RunSummary, metrics_of, summarize_run
from .common import (
    READ_ONLY,
    PageInfo,
    PageToken,
    ResponseFormat,
    RunRef,
    budgeted_page,
    name_contains_filter,
)

ExperimentRef = Annotated[
    str | None,
    Field(
        description="Experiment name or id, e.g. 'nba_game_winner_prediction'; omit for the default",
        max_length=500,
    ),
]


class ExperimentRow(BaseModel):
    name: str
    experiment_id: str
    lifecycle_stage: str
    created: str | None = None
    last_updated: str | None = None
    artifact_location: str | None = None
    tags: dict[str, str] = {}


class ExperimentList(PageInfo):
    experiments: list[ExperimentRow]


class RunSearchPage(PageInfo):
    experiment: str
    experiment_id: str
    order_by: list[str]
    runs: list[RunSummary]


def _experiment_row(e: dict) -> ExperimentRow:
    return ExperimentRow(
        name=e["name"],
        experiment_id=e["experiment_id"],
        lifecycle_stage=e.get("lifecycle_stage", "active"),
        created=iso_from_ms(e.get("creation_time")),
        last_updated=iso_from_ms(e.get("last_update_time")),
        artifact_location=e.get("artifact_location"),
        tags={
            t["key"]: clip(t.get("value", ""), 200)
            for t in e.get("tags", [])
            if not t["key"].startswith("mlflow.")
        },
    )


def _runs_text(answer: RunSearchPage) -> str:
    head = f"experiment: {answer.experiment} (id {answer.experiment_id}); order: {', '.join(answer.order_by)}"
    metric_keys: list[str] = []
    for run in answer.runs:
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
        for r in answer.runs
    ]
    lines = [head, f"runs ({len(rows)}):" if rows else "runs: none match"]
    if rows:
        lines += table(rows, "  ")
    if answer.hint:
        lines.append(answer.hint)
    return "\n".join(lines)


def register(mcp: MCPServer, backends: Backends) -> None:
    settings = backends.settings

    @mcp.tool(annotations=READ_ONLY, structured_output=True)
    async def mlflow_list_experiments(
        name_contains: Annotated[
            str | None, Field(description="case-insensitive part of the name, e.g. 'nba'", max_length=200)
        ] = None,
        include_deleted: Annotated[bool, Field(description="also list deleted experiments")] = False,
        page_size: Annotated[int, Field(ge=1, le=500, description="experiments per page, e.g. 50")] = 100,
        page_token: PageToken = None,
    ) -> Annotated[CallToolResult, ExperimentList]:
        """Which MLflow experiments exist: name, id, creation and last-update time, tags. Sorted by name."""
        api = await backends.mlflow()
        view = "ALL" if include_deleted else "ACTIVE_ONLY"
        scope = query_scope("experiments", name_contains, view, page_size)
        page = decode_page_token(page_token, scope)
        filter_string = name_contains_filter(name_contains)
        rows, next_cursor = await api.search_experiments(filter_string, page_size, page.cursor, view)
        answer = budgeted_page(
            "mlflow_list_experiments",
            [_experiment_row(e) for e in rows[page.skip :]],
            lambda items, info: ExperimentList(experiments=items, **info.model_dump()),
            settings.response_budget,
            cursor=page.cursor,
            skip=page.skip,
            next_cursor=next_cursor,
            scope=scope,
        )
        return tool_result(answer)

    @mcp.tool(annotations=READ_ONLY, structured_output=True)
    async def mlflow_search_runs(
        experiment: ExperimentRef = None,
        filter: Annotated[
            str | None,
            Field(
                description="MLflow filter, e.g. \"metrics.test_accuracy > 0.65 and params.algorithm = 'xgboost'\"",
                max_length=2000,
            ),
        ] = None,
        status: Annotated[
            str | None, Field(description="only runs in this status: FINISHED, FAILED, RUNNING, KILLED")
        ] = None,
        order_by: Annotated[
            list[str] | None,
            Field(description="e.g. ['metrics.test_accuracy DESC']; default newest first", max_length=5),
        ] = None,
        metric_keys: Annotated[
            list[str] | None,
            Field(
                description="extra metrics to show besides test/train accuracy and sample counts",
                max_length=20,
            ),
        ] = None,
        page_size: Annotated[int, Field(ge=1, le=200, description="runs per page, e.g. 20")] = 20,
        page_token: PageToken = None,
    ) -> Annotated[CallToolResult, RunSearchPage]:
        """Runs of an experiment (the default one if omitted), newest first unless ordered otherwise: each a
        one-line summary with run name and id, start time, status, model_version, algorithm, feature_count
        and the key metrics. Filter with MLflow's syntax on metrics., params., tags., attributes."""
        api = await backends.mlflow()
        exp = await resolve_experiment(api, experiment or settings.default_experiment)
        clauses = [filter.strip()] if filter and filter.strip() else []
        if status:
            wanted = status.strip().upper()
            if wanted not in {"FINISHED", "FAILED", "RUNNING", "KILLED", "SCHEDULED"}:
                raise InvalidArgument(f"status must be FINISHED, FAILED, RUNNING or KILLED, not {status!r}.")
            clauses.append(f"attributes.status = '{wanted}'")
        if any(ch in (filter or "") for ch in "\x00\r\n"):
            raise InvalidArgument("filter must be a single line of MLflow filter syntax.")
        order = [o.strip() for o in (order_by or ["attributes.start_time DESC"]) if o.strip()]
        keys = list(KEY_METRICS) + [k for k in metric_keys or [] if k not in KEY_METRICS]
        scope = query_scope("runs", exp["experiment_id"], clauses, order, page_size)
        page = decode_page_token(page_token, scope)
        rows, next_cursor = await api.search_runs(
            [exp["experiment_id"]], " and ".join(clauses), order, page_size, page.cursor, "ACTIVE_ONLY"
        )
        answer = budgeted_page(
            "mlflow_search_runs",
            [summarize_run(r, keys) for r in rows[page.skip :]],
            lambda items, info: RunSearchPage(
                experiment=exp["name"],
                experiment_id=exp["experiment_id"],
                order_by=order,
                runs=items,
                **info.model_dump(),
            ),
            settings.response_budget,
            cursor=page.cursor,
            skip=page.skip,
            next_cursor=next_cursor,
            scope=scope,
            text=_runs_text,
        )
        return tool_result(answer, _runs_text(answer))

    @mcp.tool(annotations=READ_ONLY, structured_output=True)
    async def mlflow_get_run(
        run_id: RunRef, response_format: ResponseFormat = "concise"
    ) -> Annotated[CallToolResult, RunDetail]:
        """One run in full: status and times, params (features_part* folded into one ordered feature list),
        metrics, useful tags, top-level artifacts, logged datasets, and the registry versions made from it."""
        api = await backends.mlflow()
        run = await resolve_run(api, run_id, settings.default_experiment)
        detail = await build_run_detail(api, run, response_format == "detailed")
        return tool_result(fit_run_detail(detail, settings.response_budget))

    @mcp.tool(annotations=READ_ONLY, structured_output=True)
    async def mlflow_get_run_features(run_id: RunRef) -> Annotated[CallToolResult, RunFeatures]:
        """The ordered feature list a run trained on and where it was recorded (features.json, else the
        features_part* params, else Feast's feast.feature_refs tag, else a logged dataset schema), with
        feature_count, top_features and importances from feature_importances.json."""
        api = await backends.mlflow()
        run = await resolve_run(api, run_id, settings.default_experiment)
        answer = await run_features(api, run)
        return tool_result(answer, features_text(answer))

    @mcp.tool(annotations=READ_ONLY, structured_output=True)
    async def mlflow_compare_runs(
        run_ids: Annotated[
            list[str],
            Field(
                min_length=2,
                max_length=10,
                description="2-10 runs, the first is the baseline: run ids, 'latest', run names, or model "
                "versions by their training run, e.g. ['game_winner_model/Production', 'game_winner_model/Staging']",
            ),
        ],
    ) -> Annotated[CallToolResult, RunComparison]:
        """Runs (or model versions, by their training runs) side by side against the first: params that
        changed, metric deltas, features added and removed, and how the top features' importances shifted."""
        api = await backends.mlflow()
        runs, labels = [], []
        for ref in run_ids:
            if looks_like_model_ref(ref):
                run, label = await source_run_of_version(api, *parse_model_ref(ref, settings.default_model))
            else:
                run, label = await resolve_run(api, ref, settings.default_experiment), None
            runs.append(run)
            labels.append(label)
        answer = await compare_runs(api, runs, labels)
        return tool_result(answer, comparison_text(answer))

    @mcp.tool(annotations=READ_ONLY, structured_output=True)
    async def mlflow_get_metric_history(
        run_id: RunRef,
        metric_key: Annotated[
            str, Field(description="metric name, e.g. 'val_loss' or 'test_accuracy'", max_length=250)
        ],
        max_points: Annotated[
            int, Field(ge=4, le=500, description="most points in the series, e.g. 50")
        ] = 50,
    ) -> Annotated[CallToolResult, MetricHistory]:
        """A metric over steps: first, last, min and max with their steps, plus a downsampled series of at most
        max_points (never the thousands of raw points)."""
        api = await backends.mlflow()
        run = await resolve_run(api, run_id, settings.default_experiment)
        known = metrics_of(run)
        if metric_key not in known:
            raise not_found(
                f"metric in run {run['info']['run_id']}",
                metric_key,
                list(known),
                "Metrics logged: " + (", ".join(sorted(known)) or "none") + ".",
            )
        raw = await api.get_metric_history(run["info"]["run_id"], metric_key)
        answer = summarize_history(run["info"]["run_id"], metric_key, raw, max_points)
        text = render(answer.model_copy(update={"series": []}))
        text += "\nseries (step:value): " + ", ".join(
            f"{p.step}:{round_number(p.value)}" for p in answer.series
        )
        return tool_result(answer, text)
