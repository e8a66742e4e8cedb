"""Experiments and runs: list, search, one run in full, its features, comparisons, metric curves."""

from __future__ import annotations

import math
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
from ..services.artifacts import list_dir
from ..services.features import RunFeatures, run_features
from ..services.mlflow_lookup import resolve_experiment, resolve_run
from ..services.registry import VersionInfo, version_info
from ..services.runs import (
    FEATURE_PART,
    KEY_METRICS,
    RunSummary,
    fold_feature_parts,
    metrics_of,
    params_of,
    summarize_run,
    useful_tags,
)
from .common import READ_ONLY, PageInfo, PageToken, ResponseFormat, RunRef, budgeted_page

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


class RunDataset(BaseModel):
    name: str | None = None
    digest: str | None = None
    source_type: str | None = None
    context: str | None = None


class RunDetail(RunSummary):
    experiment: str | None = None
    end_time: str | None = None
    duration_s: float | None = None
    params: dict[str, str] = Field({}, description="all params except features_part* (folded into features)")
    features: list[str] = Field([], description="features_part* params folded in order")
    tags: dict[str, str] = {}
    artifacts: list[str] = Field([], description="top-level artifact paths; directories end with '/'")
    registered_versions: list[str] = Field([], description="'model vN (stage)' registered from this run")
    datasets: list[RunDataset] = []
    notes: list[str] = []


class ParamChange(BaseModel):
    param: str
    values: list[str | None]


class MetricDelta(BaseModel):
    metric: str
    values: list[float | int | None]
    delta_vs_first: list[float | int | None]


class FeatureDiff(BaseModel):
    run_id: str
    added: list[str] = []
    removed: list[str] = []


class RunComparison(BaseModel):
    runs: list[RunSummary]
    param_changes: list[ParamChange]
    unchanged_params: int
    metric_deltas: list[MetricDelta]
    feature_sources: list[str]
    feature_changes: list[FeatureDiff] = Field(description="features added/removed against the first run")
    importance_shifts: dict[str, list[float | None]] = Field(
        {}, description="importance per run for the first run's top features"
    )
    truncated: bool = False


class MetricPoint(BaseModel):
    step: int
    value: float | int
    time: str | None = None


class MetricHistory(BaseModel):
    run_id: str
    metric: str
    points: int
    first: MetricPoint | None = None
    last: MetricPoint | None = None
    min: MetricPoint | None = None
    max: MetricPoint | None = None
    series: list[MetricPoint] = Field(
        description="downsampled; always holds the first, last, min and max points"
    )
    downsampled: bool = False


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


def _downsample(points: list[dict], limit: int) -> tuple[list[int], bool]:
    """Indexes of at most `limit` evenly spaced points plus the first, last, min and max."""
    n = len(points)
    if n <= limit:
        return list(range(n)), False
    values = [float(p.get("value", math.nan)) for p in points]
    keep = {0, n - 1, values.index(min(values)), values.index(max(values))}
    slots = max(limit - len(keep), 1)
    keep.update(round(i * (n - 1) / (slots - 1 or 1)) for i in range(slots))
    return sorted(keep)[: max(limit, 4)], True


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
        filter_string = None
        if name_contains:
            filter_string = "name ILIKE '%" + name_contains.replace("'", "\\'").replace("%", "\\%") + "%'"
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
        return tool_result(_fit_run_detail(detail, settings.response_budget))

    @mcp.tool(annotations=READ_ONLY, structured_output=True)
    async def mlflow_get_run_features(run_id: RunRef) -> Annotated[CallToolResult, RunFeatures]:
        """The ordered feature list a run trained on and where it was recorded (features.json, else the
        features_part* params, else Feast's feast.feature_refs tag, else a logged dataset schema), with
        feature_count, top_features and importances from feature_importances.json."""
        api = await backends.mlflow()
        run = await resolve_run(api, run_id, settings.default_experiment)
        return tool_result(await run_features(api, run))

    @mcp.tool(annotations=READ_ONLY, structured_output=True)
    async def mlflow_compare_runs(
        run_ids: Annotated[
            list[str],
            Field(
                min_length=2,
                max_length=10,
                description="2-10 run ids (or 'latest' / run names); the first is the baseline",
            ),
        ],
    ) -> Annotated[CallToolResult, RunComparison]:
        """Runs side by side against the first: params that changed, metric deltas, features added and
        removed, and how the baseline's top features' importances shifted."""
        api = await backends.mlflow()
        runs = [await resolve_run(api, ref, settings.default_experiment) for ref in run_ids]
        features = [await run_features(api, run) for run in runs]
        params = [{k: v for k, v in params_of(r).items() if not FEATURE_PART.match(k)} for r in runs]
        metrics = [metrics_of(r) for r in runs]
        keys = sorted({k for p in params for k in p})
        changes = [
            ParamChange(param=k, values=[clip(p[k], 200) if k in p else None for p in params])
            for k in keys
            if len({p.get(k) for p in params}) > 1
        ]
        metric_keys = list(KEY_METRICS) + sorted({k for m in metrics for k in m} - set(KEY_METRICS))
        deltas = []
        for key in metric_keys:
            values = [m.get(key) for m in metrics]
            if all(v is None for v in values):
                continue
            base = values[0]
            deltas.append(
                MetricDelta(
                    metric=key,
                    values=values,
                    delta_vs_first=[
                        round_number(v - base) if v is not None and base is not None else None for v in values
                    ],
                )
            )
        base_features = features[0].features
        diffs = [
            FeatureDiff(
                run_id=f.run_id,
                added=[x for x in f.features if x not in set(base_features)],
                removed=[x for x in base_features if x not in set(f.features)],
            )
            for f in features[1:]
        ]
        shifts = {name: [f.importances.get(name) for f in features] for name in features[0].top_features[:10]}
        answer = RunComparison(
            runs=[summarize_run(r) for r in runs],
            param_changes=changes,
            unchanged_params=len(keys) - len(changes),
            metric_deltas=deltas,
            feature_sources=[f"{f.run_id[:8]}: {f.source} ({f.feature_count})" for f in features],
            feature_changes=diffs,
            importance_shifts=shifts,
        )
        return tool_result(answer)

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
        raw.sort(key=lambda p: (int(p.get("step", 0)), int(p.get("timestamp", 0))))

        def point(p: dict) -> MetricPoint:
            return MetricPoint(
                step=int(p.get("step", 0)),
                value=round_number(float(p.get("value", math.nan))),
                time=iso_from_ms(p.get("timestamp")),
            )

        values = [float(p.get("value", math.nan)) for p in raw]
        keep, downsampled = _downsample(raw, max_points)
        answer = MetricHistory(
            run_id=run["info"]["run_id"],
            metric=metric_key,
            points=len(raw),
            first=point(raw[0]) if raw else None,
            last=point(raw[-1]) if raw else None,
            min=point(raw[values.index(min(values))]) if raw else None,
            max=point(raw[values.index(max(values))]) if raw else None,
            series=[
                MetricPoint(step=int(raw[i].get("step", 0)), value=round_number(values[i])) for i in keep
            ],
            downsampled=downsampled,
        )
        text = render(answer.model_copy(update={"series": []}))
        text += "\nseries (step:value): " + ", ".join(
            f"{p.step}:{render_value(p.value)}" for p in answer.series
        )
        return tool_result(answer, text)


def render_value(value: float | int) -> str:
    return str(round_number(value))


async def build_run_detail(api, run: dict, detailed: bool) -> RunDetail:
    info = run["info"]
    params = params_of(run)
    summary = summarize_run(run, list(metrics_of(run)) if detailed else KEY_METRICS)
    start, end = info.get("start_time"), info.get("end_time")
    experiment = await api.get_experiment(info.get("experiment_id", ""))
    listing = await list_dir(api, info["run_id"], "")
    escaped = info["run_id"]
    versions, _ = await api.search_model_versions(f"run_id = '{escaped}'", 50, None)
    registered = [
        f"{v['name']} v{version_info(v, {}).version} ({v.get('current_stage') or 'None'})"
        for v in sorted(versions, key=lambda v: int(v["version"]))
    ]
    features = fold_feature_parts(params, summary.feature_count)
    shown_params = {
        k: (v if detailed else clip(v, 300))
        for k, v in sorted(params.items())
        if not FEATURE_PART.match(k) and (detailed or k != "top_features")
    }
    if not detailed and "top_features" in params:
        shown_params["top_features"] = clip(params["top_features"], 300)
    notes = []
    if any(f.get("path") == "training_artifacts" for f in listing) and not features:
        notes.append(
            "no features_part* params; see mlflow_get_run_features for training_artifacts/features.json"
        )
    return RunDetail(
        **summary.model_dump(),
        experiment=experiment["name"] if experiment else None,
        end_time=iso_from_ms(end),
        duration_s=round_number((int(end) - int(start)) / 1000) if start and end else None,
        params=shown_params,
        features=features,
        tags=useful_tags(run, 10_000 if detailed else 300),
        artifacts=[f["path"] + ("/" if f.get("is_dir") else "") for f in listing],
        registered_versions=registered,
        datasets=[
            RunDataset(
                name=d.get("dataset", {}).get("name"),
                digest=d.get("dataset", {}).get("digest"),
                source_type=d.get("dataset", {}).get("source_type"),
                context=next(
                    (t["value"] for t in d.get("tags", []) if t["key"] == "mlflow.data.context"), None
                ),
            )
            for d in run.get("inputs", {}).get("dataset_inputs", [])
        ],
        notes=notes,
    )


def _fit_run_detail(detail: RunDetail, budget: int) -> RunDetail:
    """A run with thousands of params or huge tags is cut, never sent whole."""
    from ..core.budget import measure

    if measure(detail) <= budget:
        return detail
    params = dict(list(detail.params.items()))
    while params and measure(detail.model_copy(update={"params": params})) > budget:
        params = dict(list(params.items())[: len(params) // 2])
    cut = detail.model_copy(
        update={
            "params": params,
            "tags": {k: clip(v, 100) for k, v in list(detail.tags.items())[:30]},
            "notes": [
                *detail.notes,
                f"truncated: showing {len(params)} of {len(detail.params)} params; "
                "use mlflow_search_runs with filter on params.<name> to read a specific one",
            ],
        }
    )
    return cut


# VersionInfo is re-exported for tools that show runs with their versions.
__all__ = ["RunDetail", "VersionInfo", "build_run_detail", "register"]
