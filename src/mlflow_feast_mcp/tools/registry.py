"""The Model Registry: models with aliases and latest versions, every version of one model, and
one version resolved from a number, alias, stage or 'latest'."""

from __future__ import annotations

import contextlib
from typing import Annotated

from mcp.server import MCPServer
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from ..backends.mlflow_api import MlflowMissing
from ..core.errors import InvalidArgument
from ..core.formatting import clip, iso_from_ms
from ..core.paging import decode_page_token, query_scope
from ..core.render import render, scalar
from ..core.results import tool_result
from ..server.backends import Backends
from ..services.features import RunFeatures, run_features
from ..services.mlflow_lookup import RUN_ID
from ..services.registry import (
    Resolution,
    VersionInfo,
    aliases_by_version,
    all_versions,
    get_model,
    resolve_model_version,
    version_info,
)
from ..services.runs import RunSummary, run_line, summarize_run
from .common import READ_ONLY, PageInfo, PageToken, ResponseFormat, budgeted_page, name_contains_filter

ModelName = Annotated[
    str | None,
    Field(
        description="registered model name, e.g. 'game_winner_model'; omit for the default", max_length=500
    ),
]


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


class ModelVersionAnswer(BaseModel):
    resolution: Resolution
    version: VersionInfo
    tags: dict[str, str] = {}
    run: RunSummary | None = None
    features: RunFeatures | None = None
    notes: list[str] = []


def _aliases(model: dict) -> dict[str, int]:
    return {a["alias"]: int(a["version"]) for a in model.get("aliases", [])}


def register(mcp: MCPServer, backends: Backends) -> None:
    settings = backends.settings

    @mcp.tool(annotations=READ_ONLY, structured_output=True)
    async def mlflow_list_registered_models(
        name_contains: Annotated[
            str | None, Field(description="case-insensitive part of the name, e.g. 'winner'", max_length=200)
        ] = None,
        page_size: Annotated[int, Field(ge=1, le=500, description="models per page, e.g. 50")] = 100,
        page_token: PageToken = None,
    ) -> Annotated[CallToolResult, ModelList]:
        """Registered models with their aliases (alias -> version) and the newest version in each stage."""
        api = await backends.mlflow()
        scope = query_scope("models", name_contains, page_size)
        page = decode_page_token(page_token, scope)
        filter_string = name_contains_filter(name_contains)
        rows, next_cursor = await api.search_registered_models(filter_string, page_size, page.cursor)
        models = [
            ModelRow(
                name=m["name"],
                aliases=_aliases(m),
                latest_versions={
                    (v.get("current_stage") or "None"): int(v["version"])
                    for v in m.get("latest_versions", [])
                },
                last_updated=iso_from_ms(m.get("last_updated_timestamp")),
                description=clip(m["description"], 300) if m.get("description") else None,
            )
            for m in rows[page.skip :]
        ]
        answer = budgeted_page(
            "mlflow_list_registered_models",
            models,
            lambda items, info: ModelList(models=items, **info.model_dump()),
            settings.response_budget,
            cursor=page.cursor,
            skip=page.skip,
            next_cursor=next_cursor,
            scope=scope,
        )
        return tool_result(answer)

    @mcp.tool(annotations=READ_ONLY, structured_output=True)
    async def mlflow_get_registered_model(
        model_name: ModelName = None,
        stage: Annotated[
            str | None, Field(description="only versions in this stage, e.g. 'Production'", max_length=50)
        ] = None,
        page_size: Annotated[int, Field(ge=1, le=200, description="versions per page, newest first")] = 50,
        page_token: PageToken = None,
    ) -> Annotated[CallToolResult, ModelDetail]:
        """Every version of a registered model, newest first: stage, aliases, source run, status, creation time
        and the run's headline metrics (test_accuracy, train_accuracy...)."""
        api = await backends.mlflow()
        name = model_name or settings.default_model
        model = await get_model(api, name)
        aliases = aliases_by_version(model)
        versions = await all_versions(api, name)
        if stage:
            wanted = stage.strip().lower()
            if wanted not in {"production", "staging", "archived", "none"}:
                raise InvalidArgument(f"stage must be Production, Staging, Archived or None, not {stage!r}.")
            versions = [v for v in versions if (v.get("current_stage") or "None").lower() == wanted]
        scope = query_scope("versions", name, stage, page_size)
        page = decode_page_token(page_token, scope)
        start = int(page.cursor or 0)
        window = versions[start : start + page_size]
        rows = []
        for v in window[page.skip :]:
            row = VersionRow(**version_info(v, aliases).model_dump())
            if row.run_id and RUN_ID.match(row.run_id):
                with contextlib.suppress(MlflowMissing):  # a deleted source run: no metrics to show
                    row.metrics = summarize_run(await api.get_run(row.run_id)).metrics
            rows.append(row)
        answer = budgeted_page(
            "mlflow_get_registered_model",
            rows,
            lambda items, info: ModelDetail(
                name=model["name"],
                description=model.get("description") or None,
                aliases=_aliases(model),
                tags={t["key"]: clip(t.get("value", ""), 200) for t in model.get("tags", [])},
                version_count=len(versions),
                versions=items,
                **info.model_dump(),
            ),
            settings.response_budget,
            cursor=start,
            skip=page.skip,
            next_cursor=start + page_size if start + page_size < len(versions) else None,
            scope=scope,
        )
        return tool_result(answer)

    @mcp.tool(annotations=READ_ONLY, structured_output=True)
    async def mlflow_get_model_version(
        version_ref: Annotated[
            str,
            Field(
                description="which version: a number ('3'), an alias ('champion' or '@champion'), a legacy stage "
                "('Production', 'Staging'), 'latest', or a full ref ('game_winner_model@champion', "
                "'models:/game_winner_model/Production')",
                min_length=1,
                max_length=500,
            ),
        ] = "Production",
        model_name: ModelName = None,
        response_format: ResponseFormat = "concise",
    ) -> Annotated[CallToolResult, ModelVersionAnswer]:
        """One model version, resolved from a number, alias, stage or 'latest' ("what is in Production?"): says
        which mechanism resolved it, flags aliases and stages that disagree, and includes the source run's
        summary and features."""
        from ..services.registry import parse_model_ref

        api = await backends.mlflow()
        name, ref = parse_model_ref(version_ref, model_name or settings.default_model)
        resolution, version, model = await resolve_model_version(api, name, ref)
        info = version_info(version, aliases_by_version(model))
        answer = ModelVersionAnswer(
            resolution=resolution,
            version=info,
            tags={t["key"]: clip(t.get("value", ""), 200) for t in version.get("tags", [])},
        )
        if info.run_id and RUN_ID.match(info.run_id):
            try:
                run = await api.get_run(info.run_id)
                answer.run = summarize_run(run)
                features = await run_features(api, run)
                if response_format == "concise":
                    features = features.model_copy(update={"importances": {}, "dtypes": {}})
                answer.features = features
            except MlflowMissing:
                answer.notes.append(f"source run {info.run_id} no longer exists in MLflow")
        else:
            answer.notes.append("this version records no source run")
        return tool_result(answer, _version_text(answer, response_format == "detailed"))


def _version_text(answer: ModelVersionAnswer, detailed: bool) -> str:
    r, v = answer.resolution, answer.version
    aliases = f"; aliases: {', '.join(v.aliases)}" if v.aliases else "; no aliases"
    status = f"; status {v.status}" if v.status != "READY" else ""
    lines = [
        f"{r.model_name} '{r.ref}' -> version {v.version} (resolved by {r.resolved_by}); stage {v.stage}"
        f"{aliases}{status}; created {v.created}"
    ]
    lines += [f"CONFLICT: {c}" for c in r.conflicts]
    if answer.run:
        lines.append(run_line(answer.run))
    if answer.features:
        f = answer.features
        head = f"features: {f.feature_count} from {f.source}"
        if detailed or not f.top_features:
            lines.append(f"{head}: " + ", ".join(scalar(x) for x in f.features))
        else:
            lines.append(f"{head}; top: " + ", ".join(scalar(x) for x in f.top_features[:5]))
            lines.append("(full list: mlflow_get_run_features, or response_format='detailed')")
        lines += [f"note: {n}" for n in f.notes]
    extra = answer.model_dump(include={"tags", "notes"}, exclude_none=True)
    if any(extra.values()):
        lines.append(render(extra))
    if v.description:
        lines.append(f"description: {scalar(v.description)}")
    return "\n".join(lines)
