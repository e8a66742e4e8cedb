"""The Model Registry as answers: registered models with aliases and latest versions, every version
of one model with its run's metrics, and one version resolved from any reference MLflow accepts,
with its run, its LoggedModel (metrics per dataset) and its features."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from pydantic import BaseModel, Field

from ..backends.mlflow_api import MlflowApi, MlflowMissing
from ..backends.mlflow_models import LoggedModel, Run
from ..core.answer import Answer
from ..core.budget import may_fit
from ..core.errors import InvalidArgument, NotFound
from ..core.formatting import clip, iso_from_ms
from ..core.paging import PageInfo, Pager
from ..core.render import render, scalar
from .features import RunFeatures, fit_run_features, run_features
from .logged_models import (
    LoggedModelRow,
    get_logged_model,
    is_model_id,
    model_row,
    versions_from_model,
)
from .mlflow_lookup import RUN_ID, name_contains_filter
from .registry import (
    Resolution,
    VersionInfo,
    all_versions,
    get_model,
    resolve_logged_model,
    resolve_model_version,
    version_info,
)
from .runs import KEY_METRICS, SUMMARY_OTHERS, RunSummary, metrics_text, run_line, summarize_run

MODEL_METRICS_HINT = "mlflow_search_logged_models(model_id=...) lists every metric"
FULL_LIST = "full list: response_format='detailed'"


class ModelRow(BaseModel):
    name: str
    aliases: dict[str, int] = Field({}, description="alias -> version")
    latest_versions: dict[str, int] = Field({}, description="stage -> newest version in it")
    last_updated: str | None = None
    description: str | None = None


class ModelList(PageInfo):
    models: list[ModelRow]


class VersionRow(VersionInfo):
    metrics: dict[str, float | int] = {}
    more_metrics: int | None = None


class ModelDetail(PageInfo):
    name: str
    description: str | None = None
    aliases: dict[str, int] = {}
    tags: dict[str, str] = {}
    version_count: int
    versions: list[VersionRow]


class ModelVersionAnswer(Answer):
    resolution: Resolution | None = None
    version: VersionInfo | None = None
    tags: dict[str, str] = {}
    run: RunSummary | None = None
    logged_model: LoggedModelRow | None = None
    features: RunFeatures | None = None
    notes: list[str] = []

    def concise(self) -> ModelVersionAnswer:
        """The version as the text tells it: the run's top five features (not the list, nor the Feast
        retrieval tags), no start time, and the version's run id, status and source, and the feature
        count, only where they say more than the run line (a run other than the one summarised, a
        status not READY); the feature count once, in the features."""
        v, f, run = self.version, self.features, self.run
        update: dict = {}
        if v is not None:
            same_run = run is not None and v.run_id == run.run_id
            update["version"] = v.model_copy(
                update={
                    "run_id": None if same_run else v.run_id,
                    "status": None if v.status == "READY" else v.status,
                    "source": None,
                }
            )
        if run is not None:
            told = f is not None and f.feature_count == run.feature_count
            update["run"] = run.model_copy(
                update={"start_time": None, "feature_count": None if told else run.feature_count}
            )
        if f is not None:
            top = f.top_features[:5]
            update["features"] = f.model_copy(
                update={
                    "run_id": None if run is not None and f.run_id == run.run_id else f.run_id,
                    "run_name": None,
                    "logged_feature_count": None,
                    "features": [] if top else f.features,
                    "feature_refs": [],
                    "top_features": top,
                    "feast_retrieval": {},
                    "notes": [*f.notes, FULL_LIST] if top and f.features else f.notes,
                }
            )
        return self.model_copy(update=update)

    def render_text(self) -> str:
        r, v, m = self.resolution, self.version, self.logged_model
        lines = []
        if r is not None and v is not None:
            aliases = f"; aliases: {', '.join(scalar(a) for a in v.aliases)}" if v.aliases else ""
            status = f"; status {v.status}" if v.status not in (None, "READY") else ""
            stage = "" if r.resolved_by == "stage" else f"; stage {v.stage}"  # else the ref names it
            lines.append(
                f"{scalar(r.model_name)} {scalar(r.ref)} -> version {v.version} (resolved by {r.resolved_by})"
                f"{stage}{aliases}{status}; created {v.created}"
            )
            lines += [f"note: {r.note}"] if r.note else []
            lines += [f"CONFLICT: {c}" for c in r.conflicts]
        elif m is not None:
            lines.append(f"{m.model_id} is a LoggedModel no registry version was made from")
        if self.run:
            lines.append(run_line(self.run))
        if m:
            registered = (
                f"; registered as {', '.join(m.registered_versions)}" if m.registered_versions else ""
            )
            lines.append(
                f"logged model {m.model_id} ({scalar(m.name)}{', ' + m.status if m.status else ''}): "
                + (
                    metrics_text(m.metrics, m.more_metrics, MODEL_METRICS_HINT)
                    if m.metrics
                    else "metrics as the run's"
                )
                + registered
            )
        if self.features:
            f = self.features
            head = f"features: {f.feature_count} from {f.source}"
            if f.features:
                lines.append(f"{head}: " + ", ".join(scalar(x) for x in f.features))
            else:
                lines.append(f"{head}; top: " + ", ".join(scalar(x) for x in f.top_features))
            lines += [f"note: {n}" for n in f.notes]
        extra = self.model_dump(include={"tags", "notes"}, exclude_none=True)
        if any(extra.values()):
            lines.append(render(extra))
        if v is not None and v.description:
            lines.append(f"description: {scalar(v.description)}")
        return "\n".join(lines)


async def list_registered_models(
    api: MlflowApi, name_contains: str | None, page_size: int, page_token: str | None, budget: int
) -> ModelList:
    pager = Pager.open("mlflow_list_registered_models", page_token, name_contains, page_size)
    filter_string = name_contains_filter(name_contains)
    rows, next_cursor = await api.search_registered_models(filter_string, page_size, pager.backend_token)
    models = [
        ModelRow(
            name=m.name,
            aliases=dict(m.aliases),
            latest_versions={v.stage: v.version for v in m.latest_versions},
            last_updated=iso_from_ms(m.last_updated_timestamp),
            description=clip(m.description, 300) if m.description else None,
        )
        for m in rows
    ]
    return pager.page(
        models, lambda items, info: ModelList(models=items, **info.model_dump()), budget, next_cursor
    )


async def describe_registered_model(
    api: MlflowApi,
    name: str,
    stage: str | None,
    page_size: int,
    page_token: str | None,
    budget: int,
    key_metrics: Sequence[str] = KEY_METRICS,
) -> ModelDetail:
    model = await get_model(api, name)
    aliases = model.aliases_by_version()
    versions = await all_versions(api, name)
    if stage:
        wanted = stage.strip().lower()
        if wanted not in {"production", "staging", "archived", "none"}:
            raise InvalidArgument(f"stage must be Production, Staging, Archived or None, not {stage!r}.")
        versions = [v for v in versions if v.stage.lower() == wanted]
    pager = Pager.open("mlflow_get_registered_model", page_token, name, stage, page_size)
    window, next_offset = pager.window(versions, page_size)
    rows = []
    for v in window:
        row = VersionRow(**version_info(v, aliases).model_dump())
        if row.run_id and RUN_ID.match(row.run_id):
            with contextlib.suppress(MlflowMissing):  # a deleted source run: no metrics to show
                summary = summarize_run(await api.get_run(row.run_id), key_metrics, 3)
                row.metrics, row.more_metrics = summary.metrics, summary.more_metrics
        rows.append(row)
    return pager.page(
        rows,
        lambda items, info: ModelDetail(
            name=model.name,
            description=model.description,
            aliases=dict(model.aliases),
            tags={k: clip(v, 200) for k, v in model.tags.items()},
            version_count=len(versions),
            versions=items,
            **info.model_dump(),
        ),
        budget,
        next_offset,
        sliced=True,
    )


async def describe_model_version(
    api: MlflowApi, name: str, ref: str, detailed: bool, key_metrics: Sequence[str] = KEY_METRICS
) -> ModelVersionAnswer:
    """One version from any reference; `m-...` is the version made from that LoggedModel, or the
    model itself when no version was made from it."""
    if is_model_id(ref):
        logged = await get_logged_model(api, ref)
        made = await versions_from_model(api, logged)
        if not made:
            return await _unregistered(api, logged, detailed, key_metrics)
        resolution, version, model = await resolve_logged_model(api, name, logged, made)
    else:
        resolution, version, model = await resolve_model_version(api, name, ref)
    info = version_info(version, model.aliases_by_version())
    answer = ModelVersionAnswer(
        resolution=resolution,
        version=info,
        tags={k: clip(v, 200) for k, v in version.tags.items()},
    )
    run = None
    if info.run_id and RUN_ID.match(info.run_id):
        run = await _with_run(answer, api, info.run_id, info.model_id, detailed, key_metrics)
    else:
        answer.notes.append("this version records no source run")
    if info.model_id:
        with contextlib.suppress(MlflowMissing, NotFound):
            logged = await get_logged_model(api, info.model_id)
            answer.logged_model = model_row(
                logged, key_metrics, None if detailed else 6, run.metrics if run else None
            )
    return answer


async def _with_run(
    answer: ModelVersionAnswer,
    api: MlflowApi,
    run_id: str,
    model_id: str | None,
    detailed: bool,
    key_metrics: Sequence[str],
) -> Run | None:
    """The source run's summary and the features (the version's own model's signature first)."""
    try:
        run = await api.get_run(run_id)
    except MlflowMissing:
        answer.notes.append(f"source run {run_id} no longer exists in MLflow")
        return None
    answer.run = summarize_run(run, key_metrics, None if detailed else SUMMARY_OTHERS)
    features = await run_features(api, run, model_id)
    if not detailed:
        features = features.model_copy(update={"importances": {}, "dtypes": {}})
    answer.features = features
    return run


async def _unregistered(
    api: MlflowApi, logged: LoggedModel, detailed: bool, key_metrics: Sequence[str]
) -> ModelVersionAnswer:
    answer = ModelVersionAnswer()
    answer.notes.append(
        f"no registry version was made from {logged.model_id}; this is the LoggedModel itself "
        f"(mlflow_search_logged_models(model_id='{logged.model_id}') reads it in full)"
    )
    run = None
    if logged.source_run_id and RUN_ID.match(logged.source_run_id):
        run = await _with_run(answer, api, logged.source_run_id, logged.model_id, detailed, key_metrics)
    limit = None if detailed else 6
    answer.logged_model = model_row(logged, key_metrics, limit, run.metrics if run else None)
    return answer


def fit_model_version(answer: ModelVersionAnswer, budget: int) -> ModelVersionAnswer:
    """A version whose run trained on thousands of features, or with huge tags, is cut: its tags to
    30, its feature list to what fits in half the budget (saying where the whole list is read)."""
    items = max(len(answer.tags), len(answer.features.features) if answer.features else 0)
    if may_fit(answer, items, budget):
        return answer
    cut = answer.model_copy(
        update={
            "tags": dict(list(answer.tags.items())[:30]),
            "features": fit_run_features(answer.features, budget // 2) if answer.features else None,
        }
    )
    return cut
