"""The Model Registry as answers: registered models with aliases and latest versions, every version
of one model with its run's headline metrics, and one version resolved from any reference."""

from __future__ import annotations

import contextlib

from pydantic import BaseModel, Field, PrivateAttr

from ..backends.mlflow_api import MlflowApi, MlflowMissing
from ..core.answer import Answer
from ..core.errors import InvalidArgument
from ..core.formatting import clip, iso_from_ms
from ..core.paging import PageInfo, Pager
from ..core.render import render, scalar
from .features import RunFeatures, run_features
from .mlflow_lookup import RUN_ID, name_contains_filter
from .registry import Resolution, VersionInfo, all_versions, get_model, resolve_model_version, version_info
from .runs import RunSummary, run_line, summarize_run


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


class ModelDetail(PageInfo):
    name: str
    description: str | None = None
    aliases: dict[str, int] = {}
    tags: dict[str, str] = {}
    version_count: int
    versions: list[VersionRow]


class ModelVersionAnswer(Answer):
    resolution: Resolution
    version: VersionInfo
    tags: dict[str, str] = {}
    run: RunSummary | None = None
    features: RunFeatures | None = None
    notes: list[str] = []
    _detailed: bool = PrivateAttr(False)  # the full feature list in the text, not just the top five

    def render_text(self) -> str:
        r, v = self.resolution, self.version
        aliases = f"; aliases: {', '.join(v.aliases)}" if v.aliases else "; no aliases"
        status = f"; status {v.status}" if v.status != "READY" else ""
        lines = [
            f"{r.model_name} '{r.ref}' -> version {v.version} (resolved by {r.resolved_by}); stage {v.stage}"
            f"{aliases}{status}; created {v.created}"
        ]
        lines += [f"CONFLICT: {c}" for c in r.conflicts]
        if self.run:
            lines.append(run_line(self.run))
        if self.features:
            f = self.features
            head = f"features: {f.feature_count} from {f.source}"
            if self._detailed or not f.top_features:
                lines.append(f"{head}: " + ", ".join(scalar(x) for x in f.features))
            else:
                lines.append(f"{head}; top: " + ", ".join(scalar(x) for x in f.top_features[:5]))
                lines.append("(full list: mlflow_get_run_features, or response_format='detailed')")
            lines += [f"note: {n}" for n in f.notes]
        extra = self.model_dump(include={"tags", "notes"}, exclude_none=True)
        if any(extra.values()):
            lines.append(render(extra))
        if v.description:
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
    api: MlflowApi, name: str, stage: str | None, page_size: int, page_token: str | None, budget: int
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
                row.metrics = summarize_run(await api.get_run(row.run_id)).metrics
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


async def describe_model_version(api: MlflowApi, name: str, ref: str, detailed: bool) -> ModelVersionAnswer:
    resolution, version, model = await resolve_model_version(api, name, ref)
    info = version_info(version, model.aliases_by_version())
    answer = ModelVersionAnswer(
        resolution=resolution,
        version=info,
        tags={k: clip(v, 200) for k, v in version.tags.items()},
    )
    answer._detailed = detailed
    if info.run_id and RUN_ID.match(info.run_id):
        try:
            run = await api.get_run(info.run_id)
            answer.run = summarize_run(run)
            features = await run_features(api, run)
            if not detailed:
                features = features.model_copy(update={"importances": {}, "dtypes": {}})
            answer.features = features
        except MlflowMissing:
            answer.notes.append(f"source run {info.run_id} no longer exists in MLflow")
    else:
        answer.notes.append("this version records no source run")
    return answer
