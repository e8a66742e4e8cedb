"""The Model Registry, and one resolver for "what is in Production?": a version number, an alias
(exact, then case-insensitive), a legacy stage, or `latest`, saying which mechanism answered and
flagging aliases and stages that disagree."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field

from ..backends.mlflow_api import MlflowApi, MlflowMissing
from ..backends.mlflow_models import ModelVersion, RegisteredModel, Run
from ..core.errors import InvalidArgument, NotFound, not_found
from ..core.formatting import iso_from_ms

STAGES = {"production": "Production", "staging": "Staging", "archived": "Archived", "none": "None"}
# Aliases that by convention stand for a stage; a disagreement is worth telling the agent about.
STAGE_ALIASES = {"Production": ("production", "prod", "champion"), "Staging": ("staging", "challenger")}
ResolvedBy = Literal["version", "alias", "alias (case-insensitive)", "stage", "latest"]


class VersionInfo(BaseModel):
    version: int
    stage: str = "None"
    aliases: list[str] = []
    run_id: str | None = None
    status: str | None = None
    created: str | None = Field(None, description="ISO 8601 UTC")
    description: str | None = None
    source: str | None = None


class Resolution(BaseModel):
    model_name: str
    ref: str
    version: int
    resolved_by: ResolvedBy
    conflicts: list[str] = []


def parse_model_ref(ref: str, default_model: str) -> tuple[str, str]:
    """`models:/m/Production`, `m@champion`, `m/3`, `m:3` or a bare version ref."""
    text = ref.strip()
    if text.startswith("models:/"):
        text = text[len("models:/") :]
    if "@" in text and not text.startswith("@"):
        name, alias = text.split("@", 1)
        return name, "@" + alias
    if "/" in text:
        name, version = text.rsplit("/", 1)
        return name, version
    return default_model, text


def version_info(version: ModelVersion, aliases: dict[int, list[str]]) -> VersionInfo:
    """`aliases` come from the registered model: SQL stores return none on searched versions."""
    return VersionInfo(
        version=version.version,
        stage=version.stage,
        aliases=sorted(aliases.get(version.version, version.aliases)),
        run_id=version.run_id,
        status=version.status,
        created=iso_from_ms(version.creation_timestamp),
        description=version.description,
        source=version.source,
    )


async def get_model(api: MlflowApi, name: str) -> RegisteredModel:
    try:
        return await api.get_registered_model(name)
    except MlflowMissing:
        models, _ = await api.search_registered_models(None, 1000, None)
        raise not_found(
            "registered model",
            name,
            [m.name for m in models],
            "List them with mlflow_list_registered_models.",
        ) from None


async def all_versions(api: MlflowApi, name: str) -> list[ModelVersion]:
    escaped = name.replace("'", "\\'")
    versions: list[ModelVersion] = []
    token: str | None = None
    while True:
        page, token = await api.search_model_versions(f"name = '{escaped}'", 200, token)
        versions.extend(page)
        if not token:
            return sorted(versions, key=lambda v: -v.version)


async def resolve_model_version(
    api: MlflowApi, model_name: str, ref: str
) -> tuple[Resolution, ModelVersion, RegisteredModel]:
    """Resolve `ref` for `model_name`; returns the resolution, the version JSON and the model JSON."""
    model = await get_model(api, model_name)
    raw = ref.strip()
    if not raw:
        raise InvalidArgument("version_ref is empty. Pass e.g. '3', 'champion', 'Production' or 'latest'.")
    aliases = model.aliases
    versions = await all_versions(api, model_name)
    by_number = {v.version: v for v in versions}
    conflicts: list[str] = []
    name = raw[1:] if raw.startswith("@") else raw
    number_match = re.fullmatch(r"(?:v|version\s*)?(\d+)", raw, flags=re.IGNORECASE)

    resolved_by: ResolvedBy
    if number_match and not raw.startswith("@"):
        number, resolved_by = int(number_match.group(1)), "version"
        if number not in by_number:
            raise NotFound(
                f"Model '{model_name}' has no version {number}. Versions: "
                + ", ".join(str(n) for n in sorted(by_number))
                + "."
            )
    elif name in aliases:
        number, resolved_by = aliases[name], "alias"
    elif (folded := [a for a in aliases if a.lower() == name.lower()]) and len(folded) == 1:
        number, resolved_by = aliases[folded[0]], "alias (case-insensitive)"
    elif not raw.startswith("@") and name.lower() in STAGES:
        stage = STAGES[name.lower()]
        in_stage = [v for v in versions if v.stage == stage]
        if not in_stage:
            hint = ""
            if stage in STAGE_ALIASES:
                mapped = [f"@{a}" for a in aliases if a.lower() in STAGE_ALIASES[stage]]
                if mapped:
                    hint = f" Aliases that usually stand for it: {', '.join(mapped)}."
            raise NotFound(f"No version of '{model_name}' is in stage {stage}.{hint}")
        number, resolved_by = in_stage[0].version, "stage"
        if len(in_stage) > 1:
            conflicts.append(
                f"{len(in_stage)} versions are in stage {stage} ("
                + ", ".join(f"v{v.version}" for v in in_stage)
                + f"); the newest, v{number}, answered"
            )
    elif name.lower() == "latest":
        if not versions:
            raise NotFound(f"Model '{model_name}' has no versions yet.")
        number, resolved_by = versions[0].version, "latest"
    else:
        raise not_found(
            f"alias or stage of model '{model_name}'",
            raw,
            [*aliases, *STAGES.values(), "latest"],
            "Pass a version number, an alias ("
            + (", ".join(sorted(aliases)) or "none set")
            + "), a stage (Production, Staging, Archived, None) or 'latest'.",
        )

    version = by_number[number]
    for other_stage, conventional in STAGE_ALIASES.items():
        holders = [v.version for v in versions if v.stage == other_stage]
        for alias, target in aliases.items():
            # Only disagreements that involve the answer: its stage or its alias.
            involved = target == number or number in holders
            if alias.lower() in conventional and holders and target not in holders and involved:
                conflicts.append(
                    f"alias '{alias}' points at v{target} but stage {other_stage} holds "
                    + ", ".join(f"v{h}" for h in holders)
                )
    return (
        Resolution(
            model_name=model_name, ref=raw, version=number, resolved_by=resolved_by, conflicts=conflicts
        ),
        version,
        model,
    )


_MODEL_REF = re.compile(r"^(models:/.+|[^@/\s]+@[^@/\s]+|[^/\s]+/[^/\s]+)$")


def looks_like_model_ref(ref: str) -> bool:
    """`models:/m/3`, `m@alias`, `m/Production`: a registered model reference rather than a run."""
    text = ref.strip()
    return not re.fullmatch(r"[0-9a-f]{32}", text) and bool(_MODEL_REF.match(text))


async def source_run_of_version(api: MlflowApi, model_name: str, ref: str) -> tuple[Run, str]:
    """The run a model version was trained by, and a label saying how the version was found."""
    resolution, version, _ = await resolve_model_version(api, model_name, ref)
    run_id = version.run_id or ""
    if not re.fullmatch(r"[0-9a-f]{32}", run_id):
        raise InvalidArgument(
            f"{model_name} v{resolution.version} records no source run, so its training is unknown."
        )
    try:
        run = await api.get_run(run_id)
    except MlflowMissing:
        raise NotFound(
            f"{model_name} v{resolution.version}'s source run {run_id} no longer exists."
        ) from None
    return run, f"{model_name} v{resolution.version} ({resolution.resolved_by} '{resolution.ref}')"
