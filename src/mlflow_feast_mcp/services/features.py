"""Which features a run trained on, and where that record came from, in the seed's order of
trust: `training_artifacts/features.json`, the `features_part*` params, Feast's own record
(`feast_features.json`, then the `feast.feature_refs` tag), a logged dataset's schema. No record
means no list: never a guess. The other `feast.*` tags Feast's MLflow integration sets (project,
feature service, entity dataframe) are kept as `feast_retrieval`."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import Field

from ..backends.mlflow_api import MlflowApi
from ..backends.mlflow_models import Run
from ..core import safe_json
from ..core.answer import Answer
from ..core.errors import BackendUnavailable
from ..core.formatting import round_number
from .artifacts import read_json_artifact
from .runs import fold_feature_parts, int_or_none, parse_top_features

FEATURES_JSON = "training_artifacts/features.json"
IMPORTANCES_JSON = "training_artifacts/feature_importances.json"
FEAST_FEATURES_JSON = "feast_features.json"  # Feast's log_model writes it at the run's root
FeatureSource = Literal[
    "features.json", "features_part params", "feast_features.json", "feast tags", "dataset schema", "none"
]
# feast.* tags of Feast's MLflow integration shown as the run's retrieval (refs and views are lists)
FEAST_RETRIEVAL_TAGS = (
    "project", "feature_service", "retrieval_type", "entity_df_type", "entity_df_rows",
    "entity_df_columns", "entity_df_query", "start_date", "end_date",
)  # fmt: skip


class RunFeatures(Answer):
    """The ordered feature list of a run and its provenance."""

    run_id: str
    run_name: str | None = None
    source: FeatureSource = Field(description="where the list was read from, most trusted first")
    feature_count: int = Field(description="number of features in the list")
    logged_feature_count: int | None = Field(None, description="the run's `feature_count` param, if logged")
    features: list[str] = []
    feature_refs: list[str] = Field([], description="Feast refs 'view:feature' when the run recorded them")
    dtypes: dict[str, str] = Field({}, description="feature -> type, when the run recorded types")
    feast_retrieval: dict[str, str] = Field({}, description="Feast's feast.* tags but the refs")
    top_features: list[str] = Field([], description="most important first")
    importances: dict[str, float] = {}
    notes: list[str] = []

    def render_text(self) -> str:
        """The model's view: the list, where it came from, the ten most important features."""
        from ..core.render import scalar

        logged = (
            f"; feature_count param {self.logged_feature_count}"
            if self.logged_feature_count is not None
            else ""
        )
        lines = [
            f"run {scalar(self.run_name)} ({self.run_id}): {self.feature_count} features "
            f"from {self.source}{logged}"
        ]
        if self.features:
            lines.append("features: " + ", ".join(scalar(f) for f in self.features))
        if self.feature_refs:
            lines.append("feast refs: " + ", ".join(scalar(r) for r in self.feature_refs))
        if self.feast_retrieval:
            lines.append(
                "feast retrieval: " + ", ".join(f"{k}={scalar(v)}" for k, v in self.feast_retrieval.items())
            )
        if self.dtypes:
            lines.append("dtypes: " + ", ".join(f"{scalar(k)}={scalar(v)}" for k, v in self.dtypes.items()))
        if self.importances:
            ranked = sorted(self.importances.items(), key=lambda kv: -kv[1])
            lines.append(
                f"importances (top {min(10, len(ranked))} of {len(ranked)}): "
                + ", ".join(f"{scalar(k)}={scalar(v)}" for k, v in ranked[:10])
            )
        elif self.top_features:
            lines.append("top_features: " + ", ".join(scalar(f) for f in self.top_features))
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def _names_from_json(payload: Any) -> tuple[list[str], dict[str, str]]:
    """features.json as a list of names, a list of {name, dtype} or {"features": [...]}."""
    if isinstance(payload, dict):
        payload = payload.get("features", payload.get("feature_names", []))
    names: list[str] = []
    dtypes: dict[str, str] = {}
    if isinstance(payload, list):
        for item in payload:
            if isinstance(item, str):
                names.append(item)
            elif isinstance(item, dict) and (item.get("name") or item.get("feature")):
                name = str(item.get("name") or item.get("feature"))
                names.append(name)
                if item.get("dtype") or item.get("type"):
                    dtypes[name] = str(item.get("dtype") or item.get("type"))
    return names, dtypes


def _importances(payload: Any) -> dict[str, float]:
    if isinstance(payload, dict):
        inner = payload.get("importances", payload)
        if isinstance(inner, dict):
            return {str(k): float(v) for k, v in inner.items() if isinstance(v, (int, float))}
        payload = inner
    if isinstance(payload, list):
        return {k: v for k, v in parse_top_features(json.dumps(payload)).items() if v is not None}
    return {}


def _feast_refs(tags: dict[str, str]) -> list[str]:
    raw = tags.get("feast.feature_refs", "").strip()
    if not raw:
        return []
    try:
        parsed = safe_json.loads(raw)
        if isinstance(parsed, list):
            return [str(r) for r in parsed]
    except ValueError:
        pass
    return [r.strip() for r in raw.split(",") if r.strip()]


def feast_retrieval(tags: dict[str, str]) -> dict[str, str]:
    return {k: tags[f"feast.{k}"][:1000] for k in FEAST_RETRIEVAL_TAGS if tags.get(f"feast.{k}")}


def _dataset_schema(run: Run, exclude: set[str]) -> tuple[list[str], dict[str, str], str | None]:
    for dataset in run.datasets:
        try:
            schema = safe_json.loads(dataset.schema or "{}")
        except ValueError:
            continue
        columns = schema.get("mlflow_colspec") or schema.get("columns") or []
        names, dtypes = [], {}
        for column in columns:
            if isinstance(column, dict) and column.get("name") and column["name"] not in exclude:
                names.append(column["name"])
                if column.get("type"):
                    dtypes[column["name"]] = str(column["type"])
        if names:
            return names, dtypes, dataset.name
    return [], {}, None


async def _feast_record(
    api: MlflowApi, run_id: str, tags: dict[str, str]
) -> tuple[list[str], FeatureSource, list[str]]:
    """Feast's own record of the refs a run retrieved: feast_features.json (written by Feast's
    log_model, never cut), else the feast.feature_refs tag (cut near 5,000 characters)."""
    if not tags.get("feast.feature_refs"):
        return [], "none", []
    try:
        saved = await read_json_artifact(api, run_id, FEAST_FEATURES_JSON)
    except BackendUnavailable:
        saved = None
    if isinstance(saved, list) and saved and all(isinstance(r, str) for r in saved):
        return [str(r) for r in saved], "feast_features.json", []
    notes = []
    if len(tags.get("feast.feature_refs", "")) >= 4900:
        notes.append("feast.feature_refs is near Feast's ~5,000-char tag cut; the list may be incomplete")
    return _feast_refs(tags), "feast tags", notes


async def run_features(api: MlflowApi, run: Run) -> RunFeatures:
    run_id = run.run_id
    params, tags = run.params, run.tags
    logged_count = int_or_none(params.get("feature_count"))
    notes: list[str] = []
    refs: list[str] = []
    dtypes: dict[str, str] = {}
    source: FeatureSource = "none"
    features: list[str] = []

    from_parts = fold_feature_parts(params, logged_count)
    unreadable: str | None = None

    async def read_optional(path: str) -> Any | None:
        # A database tracking URI cannot reach artifacts a tracking server serves (mlflow-artifacts:):
        # say so and fall back to the params, rather than fail the whole answer.
        nonlocal unreadable
        try:
            return await read_json_artifact(api, run_id, path)
        except BackendUnavailable as exc:
            unreadable = str(exc)[:300]
            return None

    payload = await read_optional(FEATURES_JSON)
    if payload is not None:
        features, dtypes = _names_from_json(payload)
        if features:
            source = "features.json"
            if from_parts and from_parts != features:
                notes.append(
                    f"features_part* params ({len(from_parts)} features) differ from features.json; "
                    "features.json is authoritative"
                )
    if not features and from_parts:
        features, source = from_parts, "features_part params"
    if not features:
        refs, found, feast_notes = await _feast_record(api, run_id, tags)
        if refs:
            features, source = [r.split(":", 1)[-1] for r in refs], found
            notes += feast_notes
    if not features:
        exclude = {params.get("target", ""), params.get("label", ""), params.get("target_column", "")}
        names, dtypes, dataset_name = _dataset_schema(run, exclude)
        if names:
            features, source = names, "dataset schema"
            notes.append(f"read from the schema of logged dataset '{dataset_name}'; it may include the label")
    if not features:
        notes.append(
            "This run recorded no feature list: no training_artifacts/features.json, no features_part* "
            "params, no feast_features.json or feast.feature_refs tag and no logged dataset schema."
        )
    if logged_count is not None and features and logged_count != len(features):
        notes.append(f"feature_count param says {logged_count} but the list has {len(features)}")

    importances = _importances(await read_optional(IMPORTANCES_JSON))
    if unreadable:
        notes.append(
            f"training artifacts could not be read, so features.json was not consulted: {unreadable}"
        )
    logged_top = parse_top_features(params.get("top_features"))
    if not importances:
        importances = {k: v for k, v in logged_top.items() if v is not None}
    top = [name for name, _ in sorted(importances.items(), key=lambda kv: -kv[1])][:10] or list(logged_top)[
        :10
    ]
    return RunFeatures(
        run_id=run_id,
        run_name=run.run_name,
        source=source,
        feature_count=len(features),
        logged_feature_count=logged_count,
        features=features,
        feature_refs=refs,
        dtypes=dtypes,
        feast_retrieval=feast_retrieval(tags),
        top_features=top,
        importances={k: round_number(v) for k, v in importances.items()},
        notes=notes,
    )
