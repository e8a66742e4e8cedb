"""The Model Registry, and one resolver for "what is in Production?" with MLflow's own semantics:
a version number; `@x` always an alias; `latest`; a stage name (any case) as `models:/name/<Stage>`
resolves it, the newest version in that stage, and only when the stage holds none an alias of the
same name; any other name an alias (exact, then case-insensitive); `m-...` the version made from
that LoggedModel. It says which mechanism answered and flags aliases and stages that disagree."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field

from ..backends.mlflow_api import MlflowApi, MlflowMissing
from ..backends.mlflow_models import LoggedModel, ModelVersion, RegisteredModel, Run
from ..core.errors import InvalidArgument, NotFound, not_found
from ..core.formatting import iso_from_ms
from .logged_models import get_logged_model, is_model_id, model_id_of_source

STAGES = {"production": "Production", "staging": "Staging", "archived": "Archived", "none": "None"}
# Aliases that by convention stand for a stage; a disagreement is worth telling the agent about.
STAGE_ALIASES = {"Production": ("production", "prod", "champion"), "Staging": ("staging", "challenger")}
ResolvedBy = Literal[
    "version", "alias", "alias (case-insensitive)", "alias (stage empty)", "stage", "latest", "logged model"
]


class VersionInfo(BaseModel):
    version: int
    stage: str = "None"
    aliases: list[str] = []
    run_id: str | None = None
    status: str | None = None
    created: str | None = Field(None, description="ISO 8601 UTC")
    description: str | None = None
    source: str | None = None
    model_id: str | None = None


class Resolution(BaseModel):
    model_name: str
    ref: str
    version: int
    resolved_by: ResolvedBy
    note: str | None = None
    conflicts: list[str] = []


def parse_model_ref(ref: str, default_model: str) -> tuple[str, str]:
    """`models:/m/Production`, `m@champion`, `m/3`, `models:/m-<id>` or a bare version ref."""
    text = ref.strip()
    if text.startswith("models:/"):
        text = text[len("models:/") :]
    if is_model_id(text):
        return default_model, text
    if "@" in text and not text.startswith("@"):
        name, alias = text.split("@", 1)
        return name, "@" + alias
    if "/" in text:
        name, version = text.rsplit("/", 1)
        return name, version
    return default_model, text


def version_info(version: ModelVersion, aliases: dict[int, list[str]]) -> VersionInfo:
    """`aliases` come from the registered model: SQL stores return none on searched versions."""
    model_id = version.model_id or model_id_of_source(version.source)
    return VersionInfo(
        version=version.version,
        stage=version.stage,
        aliases=sorted(aliases.get(version.version, version.aliases)),
        run_id=version.run_id,
        status=version.status,
        created=iso_from_ms(version.creation_timestamp),
        description=version.description,
        source=None if model_id and version.source == f"models:/{model_id}" else version.source,
        model_id=model_id,
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
    """Resolve `ref` for `model_name`; returns the resolution, the version and the model."""
    model = await get_model(api, model_name)
    raw = ref.strip()
    if not raw:
        raise InvalidArgument("version_ref is empty. Pass e.g. '3', 'champion', 'Production' or 'latest'.")
    versions = await all_versions(api, model_name)
    number, resolved_by, note, conflicts = _resolve(model, versions, raw)
    version = next(v for v in versions if v.version == number)
    conflicts += _alias_stage_conflicts(model.aliases, versions, number)
    resolution = Resolution(
        model_name=model_name,
        ref=raw,
        version=number,
        resolved_by=resolved_by,
        note=note,
        conflicts=conflicts,
    )
    return resolution, version, model


def _resolve(
    model: RegisteredModel, versions: list[ModelVersion], raw: str
) -> tuple[int, ResolvedBy, str | None, list[str]]:
    """(version, mechanism, note, conflicts) in MLflow's order (see the module docstring)."""
    name, aliases = model.name, model.aliases
    bare = raw[1:] if raw.startswith("@") else raw
    number_match = re.fullmatch(r"(?:v|version\s*)?(\d+)", raw, flags=re.IGNORECASE)
    if number_match:
        number = int(number_match.group(1))
        if number not in {v.version for v in versions}:
            raise NotFound(
                f"Model '{name}' has no version {number}. Versions: "
                + ", ".join(str(v.version) for v in sorted(versions, key=lambda v: v.version))
                + "."
            )
        return number, "version", None, []
    if raw.startswith("@"):
        return (*_alias(model, bare, raw), None, [])
    if bare.lower() == "latest":
        if not versions:
            raise NotFound(f"Model '{name}' has no versions yet.")
        return versions[0].version, "latest", None, []
    if bare.lower() in STAGES:
        stage = STAGES[bare.lower()]
        in_stage = [v for v in versions if v.stage == stage]
        if in_stage:
            conflicts = []
            if len(in_stage) > 1:
                conflicts.append(
                    f"{len(in_stage)} versions are in stage {stage} ("
                    + ", ".join(f"v{v.version}" for v in in_stage)
                    + f"); the newest, v{in_stage[0].version}, answered"
                )
            return in_stage[0].version, "stage", None, conflicts
        same = [a for a in aliases if a.lower() == bare.lower()]
        if len(same) == 1:
            note = f"stage {stage} holds no version, so the alias '{same[0]}' answered"
            return aliases[same[0]], "alias (stage empty)", note, []
        raise NotFound(f"No version of '{name}' is in stage {stage}.{_stage_hint(stage, aliases)}")
    return (*_alias(model, bare, raw), None, [])


def _alias(model: RegisteredModel, alias: str, raw: str) -> tuple[int, ResolvedBy]:
    aliases = model.aliases
    if alias in aliases:
        return aliases[alias], "alias"
    folded = [a for a in aliases if a.lower() == alias.lower()]
    if len(folded) == 1:
        return aliases[folded[0]], "alias (case-insensitive)"
    raise not_found(
        f"alias or stage of model '{model.name}'",
        raw,
        [*aliases, *STAGES.values(), "latest"],
        "Pass a version number, an alias ("
        + (", ".join(sorted(aliases)) or "none set")
        + "), a stage (Production, Staging, Archived, None), 'latest' or a LoggedModel id (m-...).",
    )


def _stage_hint(stage: str, aliases: dict[str, int]) -> str:
    mapped = [f"@{a}" for a in aliases if a.lower() in STAGE_ALIASES.get(stage, ())]
    return f" Aliases that usually stand for it: {', '.join(mapped)}." if mapped else ""


def _alias_stage_conflicts(aliases: dict[str, int], versions: list[ModelVersion], number: int) -> list[str]:
    """Conventional aliases (production, champion, staging...) that disagree with their stage,
    when the answer is involved: its stage or its alias."""
    conflicts = []
    for other_stage, conventional in STAGE_ALIASES.items():
        holders = [v.version for v in versions if v.stage == other_stage]
        for alias, target in aliases.items():
            involved = target == number or number in holders
            if alias.lower() in conventional and holders and target not in holders and involved:
                conflicts.append(
                    f"alias '{alias}' points at v{target} but stage {other_stage} holds "
                    + ", ".join(f"v{h}" for h in holders)
                )
    return conflicts


_MODEL_REF = re.compile(r"^(models:/.+|[^@/\s]+@[^@/\s]+|[^/\s]+/[^/\s]+)$")


def looks_like_model_ref(ref: str) -> bool:
    """`models:/m/3`, `m@alias`, `m/Production`, `m-<id>`: a model reference rather than a run."""
    text = ref.strip()
    return is_model_id(text) or (not re.fullmatch(r"[0-9a-f]{32}", text) and bool(_MODEL_REF.match(text)))


async def resolve_logged_model(
    api: MlflowApi, model_name: str, logged: LoggedModel, versions: list[ModelVersion]
) -> tuple[Resolution, ModelVersion, RegisteredModel]:
    """The version made from `logged`: under `model_name` when it was registered there, else the
    newest under the model it was registered as (`versions` come from `versions_from_model`)."""
    ours = [v for v in versions if v.name == model_name] or sorted(versions, key=lambda v: -v.version)
    chosen = ours[0]
    resolution, version, model = await resolve_model_version(api, chosen.name, str(chosen.version))
    others = [
        f"{v.name} v{v.version}" for v in versions if (v.name, v.version) != (chosen.name, chosen.version)
    ]
    note = f"the version whose source is models:/{logged.model_id}"
    if others:
        note += "; also registered as " + ", ".join(others)
    resolution = resolution.model_copy(
        update={"ref": logged.model_id, "resolved_by": "logged model", "note": note}
    )
    return resolution, version, model


async def source_run_of_version(api: MlflowApi, model_name: str, ref: str) -> tuple[Run, str]:
    """The run a model version (or a LoggedModel, `m-...`) was trained by, and a label saying how
    it was found."""
    if is_model_id(ref):
        logged = await get_logged_model(api, ref)
        run_id, label = logged.source_run_id or "", f"LoggedModel {logged.model_id} ({logged.name})"
    else:
        resolution, version, _ = await resolve_model_version(api, model_name, ref)
        run_id = version.run_id or ""
        label = f"{model_name} v{resolution.version} ({resolution.resolved_by} '{resolution.ref}')"
    if not re.fullmatch(r"[0-9a-f]{32}", run_id):
        raise InvalidArgument(f"{label} records no source run, so its training is unknown.")
    try:
        run = await api.get_run(run_id)
    except MlflowMissing:
        raise NotFound(f"{label}: its source run {run_id} no longer exists.") from None
    return run, label
