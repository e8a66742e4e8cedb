"""Which features a run trained on, and where that record came from, in order of trust:
`training_artifacts/features.json`, the `features_part*` params, the inputs of the signature of the
LoggedModel the run logged, Feast's own record (`feast_features.json`, then the `feast.feature_refs`
tag), a logged dataset's schema. A label is never a feature: signature outputs and named targets are
left out, and columns that may be labels are named. No record means no list: never a guess. The other
`feast.*` tags Feast's MLflow integration sets (project, feature service, entity dataframe) are kept
as `feast_retrieval`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio
from pydantic import Field

from ..backends.mlflow_api import MlflowApi
from ..backends.mlflow_models import DatasetInput, Run
from ..core import safe_json
from ..core.answer import Answer
from ..core.budget import fit, may_fit
from ..core.errors import BackendUnavailable
from ..core.formatting import clip, round_number
from . import conventions as conv
from .artifacts import read_json_artifact
from .logged_models import Signature, signature_of
from .runs import fold_feature_parts, int_or_none, parse_top_features

FEATURES_JSON = conv.FEATURES_JSON
IMPORTANCES_JSON = conv.IMPORTANCES_JSON
FeatureSource = Literal[
    "features.json",
    "features_part params",
    "model signature",
    "feast_features.json",
    "feast tags",
    "dataset schema",
    "none",
]
# feast.* tags of Feast's MLflow integration shown as the run's retrieval (refs and views are lists)
FEAST_RETRIEVAL_TAGS = (
    "project", "feature_service", "retrieval_type", "entity_df_type", "entity_df_rows",
    "entity_df_columns", "entity_df_query", "start_date", "end_date",
)  # fmt: skip


TOP_SHOWN = 5  # importances a concise answer shows
RETRIEVAL_HEADLINE = ("project", "feature_service", "retrieval_type", "start_date", "end_date")


class RunFeatures(Answer):
    """The ordered feature list of a run and its provenance."""

    run_id: str | None = Field(None, description="left out inside an answer that names the run")
    run_name: str | None = None
    source: FeatureSource = Field(description="where the list was read from, most trusted first")
    feature_count: int = Field(description="number of features in the list")
    logged_feature_count: int | None = Field(None, description="the run's `feature_count` param, if logged")
    features: list[str] = []
    feature_refs: list[str] = Field([], description="Feast refs 'view:feature' when the run recorded them")
    dtypes: dict[str, str] = Field({}, description="feature -> type, when the run recorded types")
    top_features: list[str] = Field([], description="most important first")
    importances: dict[str, float] = {}
    importance_count: int | None = Field(None, description="importances recorded, when more than shown")
    model_id: str | None = Field(None, description="whose signature")
    labels: list[str] = Field([], description="left out")
    possible_labels: list[str] = []
    feast_retrieval: dict[str, str] = Field({}, description="Feast's feast.* tags but the refs")
    notes: list[str] = []

    def concise(self) -> RunFeatures:
        """The five largest importances (their names are the top features) and the headline of Feast's
        retrieval (project, service, type, dates; not the entity dataframe's shape)."""
        update: dict[str, Any] = {
            "feast_retrieval": {k: v for k, v in self.feast_retrieval.items() if k in RETRIEVAL_HEADLINE}
        }
        if self.importances:
            ranked = sorted(self.importances.items(), key=lambda kv: -kv[1])
            total = self.importance_count or len(ranked)
            more = total > TOP_SHOWN
            update |= {
                "importances": dict(ranked[:TOP_SHOWN]),
                "importance_count": total if more else None,
                "top_features": [],
                "notes": [*self.notes, "every importance: response_format='detailed'"]
                if more
                else self.notes,
            }
        return self.model_copy(update=update)

    def render_text(self) -> str:
        """The model's view: the list, where it came from, the most important features."""
        from ..core.render import scalar

        logged = (
            f"; feature_count param {self.logged_feature_count}"
            if self.logged_feature_count is not None
            else ""
        )
        model = f" {self.model_id}" if self.model_id else ""
        lines = [
            f"run {scalar(self.run_name)} ({self.run_id}): {self.feature_count} features "
            f"from {self.source}{model}{logged}"
        ]
        if self.features:
            lines.append("features: " + ", ".join(scalar(f) for f in self.features))
        if self.labels:
            lines.append("labels (not features): " + ", ".join(scalar(x) for x in self.labels))
        if self.possible_labels:
            lines.append("may be labels: " + ", ".join(scalar(x) for x in self.possible_labels))
        if self.feature_refs:
            lines.append("feast refs: " + ", ".join(scalar(r) for r in self.feature_refs))
        if self.dtypes:
            lines.append("dtypes: " + ", ".join(f"{scalar(k)}={scalar(v)}" for k, v in self.dtypes.items()))
        if self.feast_retrieval:
            lines.append(
                "feast retrieval: " + ", ".join(f"{k}={scalar(v)}" for k, v in self.feast_retrieval.items())
            )
        if self.importances:
            ranked = sorted(self.importances.items(), key=lambda kv: -kv[1])
            total = self.importance_count or len(ranked)
            lines.append(
                f"importances (top {min(TOP_SHOWN, len(ranked))} of {total}): "
                + ", ".join(f"{scalar(k)}={scalar(v)}" for k, v in ranked[:TOP_SHOWN])
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
    raw = tags.get(conv.FEAST_FEATURE_REFS, "").strip()
    if not raw:
        return []
    try:
        parsed = safe_json.loads(raw)
        if isinstance(parsed, list):
            return [str(r) for r in parsed]
    except ValueError:
        pass
    return [r.strip() for r in raw.split(",") if r.strip()]


def _columns(dataset: DatasetInput) -> list[dict[str, Any]]:
    try:
        schema = safe_json.loads(dataset.schema or "{}")
    except ValueError:
        return []
    if not isinstance(schema, dict):
        return []
    columns = schema.get("mlflow_colspec") or schema.get("columns") or []
    return [c for c in columns if isinstance(c, dict) and c.get("name")]


@dataclass
class SchemaPick:
    """A dataset schema read as a feature list, and what was learnt about its labels."""

    dataset: str | None = None
    names: list[str] = field(default_factory=list)
    dtypes: dict[str, str] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def dataset_features(run: Run, known_labels: set[str]) -> SchemaPick:
    """The columns of a logged dataset minus its labels. A dataset whose columns are a strict subset
    of another's is the features-only one (autolog logs X alone): it is preferred, and the other's
    extra columns are labels."""
    parsed = [(d, _columns(d)) for d in run.datasets]
    parsed = [(d, cols) for d, cols in parsed if cols]
    if not parsed:
        return SchemaPick()
    sets = [{c["name"] for c in cols} for _, cols in parsed]
    pick, extra = 0, set[str]()
    for i, names in enumerate(sets):
        wider = [other for other in sets if names < other]
        if wider:
            pick, extra = i, wider[0] - names
            break
    dataset, columns = parsed[pick]
    labels = sorted((known_labels | extra) & set().union(*sets))
    names = [c["name"] for c in columns if c["name"] not in labels]
    dtypes = {c["name"]: str(c["type"]) for c in columns if c["name"] in names and c.get("type")}
    notes = [f"read from the schema of logged dataset '{dataset.name}'"]
    if extra:
        notes.append(f"left out as labels: {', '.join(sorted(extra))} (not in the features-only dataset)")
    return SchemaPick(dataset=dataset.name, names=names, dtypes=dtypes, labels=labels, notes=notes)


async def signature_features(
    api: MlflowApi, model_ids: list[str]
) -> tuple[str | None, Signature | None, str | None]:
    """The first of `model_ids` whose MLmodel signature names its inputs (an unreadable artifact
    store is reported, not raised)."""
    for model_id in dict.fromkeys(model_ids):
        try:
            signature = await signature_of(api, model_id)
        except BackendUnavailable as exc:
            return None, None, str(exc)[:300]
        if signature and signature.input_types:
            return model_id, signature, None
    return None, None, None


def feast_retrieval(tags: dict[str, str]) -> dict[str, str]:
    return {k: tags[f"feast.{k}"][:1000] for k in FEAST_RETRIEVAL_TAGS if tags.get(f"feast.{k}")}


async def _feast_record(
    api: MlflowApi, run_id: str, tags: dict[str, str]
) -> tuple[list[str], FeatureSource, list[str]]:
    """Feast's own record of the refs a run retrieved: feast_features.json (written by Feast's
    log_model, never cut), else the feast.feature_refs tag (cut near 5,000 characters)."""
    if not tags.get(conv.FEAST_FEATURE_REFS):
        return [], "none", []
    try:
        saved = await read_json_artifact(api, run_id, conv.FEAST_FEATURES_JSON)
    except BackendUnavailable:
        saved = None
    if isinstance(saved, list) and saved and all(isinstance(r, str) for r in saved):
        return [str(r) for r in saved], "feast_features.json", []
    notes = []
    if len(tags.get(conv.FEAST_FEATURE_REFS, "")) >= 4900:
        notes.append("feast.feature_refs is near Feast's ~5,000-char tag cut; the list may be incomplete")
    return _feast_refs(tags), "feast tags", notes


async def run_features(api: MlflowApi, run: Run, model_id: str | None = None) -> RunFeatures:
    """The run's feature list by provenance; `model_id` (a version's source model) is the first
    LoggedModel whose signature is read."""
    params = run.params
    logged_count = int_or_none(params.get(conv.FEATURE_COUNT))
    answer = RunFeatures(run_id=run.run_id, run_name=run.run_name, source="none", feature_count=0)
    unreadable: list[str] = []

    async def read_optional(path: str) -> Any | None:
        # A database tracking URI cannot reach artifacts a tracking server serves (mlflow-artifacts:):
        # say so and fall back to the params, rather than fail the whole answer.
        try:
            return await read_json_artifact(api, run.run_id, path)
        except BackendUnavailable as exc:
            unreadable.append(str(exc)[:300])
            return None

    payload = await read_optional(FEATURES_JSON)
    await anyio.to_thread.run_sync(_recorded_lists, answer, run, payload, logged_count)  # CPU when wide
    if not answer.features:
        await _model_or_schema(answer, api, run, model_id, unreadable)
    if not answer.features:
        answer.notes.append(
            "This run recorded no feature list: no training_artifacts/features.json, no features_part* "
            "params, no logged model signature, no feast_features.json or feast.feature_refs tag and no "
            "logged dataset schema."
        )
    if logged_count is not None and answer.features and logged_count != len(answer.features):
        answer.notes.append(
            f"feature_count param says {logged_count} but the list has {len(answer.features)}"
        )
    importances = await anyio.to_thread.run_sync(_importances, await read_optional(IMPORTANCES_JSON))
    if unreadable:
        answer.notes.append(
            f"training artifacts could not be read, so features.json was not consulted: {unreadable[0]}"
        )
    logged_top = parse_top_features(params.get(conv.TOP_FEATURES))
    if not importances:
        importances = {k: v for k, v in logged_top.items() if v is not None}
    ranked, answer.importances = await anyio.to_thread.run_sync(_ranked, importances)
    answer.top_features = ranked[:10] or list(logged_top)[:10]
    answer.feature_count = len(answer.features)
    answer.logged_feature_count = logged_count
    answer.feast_retrieval = feast_retrieval(run.tags)
    return answer


def _ranked(importances: dict[str, float]) -> tuple[list[str], dict[str, float | int | None]]:
    """Names by importance, and the importances rounded for reading (CPU on 20,000 features)."""
    ranked = [name for name, _ in sorted(importances.items(), key=lambda kv: -kv[1])]
    return ranked, {k: round_number(v) for k, v in importances.items()}


def _recorded_lists(answer: RunFeatures, run: Run, payload: Any, logged_count: int | None) -> None:
    """features.json, else the features_part* params."""
    from_parts = fold_feature_parts(run.params, logged_count)
    if payload is not None:
        answer.features, answer.dtypes = _names_from_json(payload)
        if answer.features:
            answer.source = "features.json"
            if from_parts and from_parts != answer.features:
                answer.notes.append(
                    f"features_part* params ({len(from_parts)} features) differ from features.json; "
                    "features.json is authoritative"
                )
    if not answer.features and from_parts:
        answer.features, answer.source = from_parts, "features_part params"


async def _model_or_schema(
    answer: RunFeatures, api: MlflowApi, run: Run, model_id: str | None, unreadable: list[str]
) -> None:
    """The logged model's signature inputs, else Feast's tags, else a dataset schema."""
    labels = conv.target_columns(run)
    found, signature, error = await signature_features(api, ([model_id] if model_id else []) + run.model_ids)
    if error:
        unreadable.append(error)
    if signature is not None:
        answer.features, answer.dtypes = list(signature.inputs), dict(signature.input_types)
        answer.source, answer.model_id = "model signature", found
        answer.labels = [x for x in signature.output_names if x not in answer.features]
        return
    refs, source, notes = await _feast_record(api, run.run_id, run.tags)
    if refs:
        answer.features, answer.source, answer.feature_refs = (
            [r.split(":", 1)[-1] for r in refs],
            source,
            refs,
        )
        answer.notes += notes
        return
    pick = dataset_features(run, labels)
    if pick.names:
        answer.features, answer.dtypes, answer.source = pick.names, pick.dtypes, "dataset schema"
        answer.labels = pick.labels
        answer.possible_labels = [c for c in pick.names if conv.looks_like_label(c)]
        answer.notes += pick.notes
        if answer.possible_labels:
            answer.notes.append(
                f"{', '.join(answer.possible_labels)} may be the label: the logged dataset does not "
                "record its targets"
            )


# where the whole list can be read when the answer shows only its start
_FULL_LIST = {
    "features.json": "mlflow_read_artifact(run_id='{run}', path='" + FEATURES_JSON + "')",
    "feast_features.json": "mlflow_read_artifact(run_id='{run}', path='feast_features.json')",
    "model signature": "mlflow_read_artifact(run_id='{run}', path='models/{model}/MLmodel')",
}


def fit_run_features(answer: RunFeatures, budget: int) -> RunFeatures:
    """A list too long for the budget (a run 20,000 features wide) is cut to its first features, with
    their types, refs and importances only, and says where the whole list is read."""
    features = answer.features
    if may_fit(answer, len(features), budget):
        return answer
    where = _FULL_LIST.get(answer.source, "").format(run=answer.run_id, model=answer.model_id)
    small = answer.model_copy(
        update={
            "labels": [clip(x, 200) for x in answer.labels[:20]],
            "possible_labels": [clip(x, 200) for x in answer.possible_labels[:20]],
            "top_features": [clip(x, 200) for x in answer.top_features],
            "feast_retrieval": {k: clip(v, 300) for k, v in answer.feast_retrieval.items()},
            "notes": [clip(n, 500) for n in answer.notes[:10]],
        }
    )

    top = set(answer.top_features)

    def build(n: int) -> RunFeatures:
        shown = features[:n]
        names = set(shown)
        note = f"truncated: showing the first {n} of {len(features)} features" + (
            f"; the whole list: {where}" if where else ""
        )
        return small.model_copy(
            update={
                "features": [clip(f, 500) for f in shown],
                "feature_refs": [clip(r, 500) for r in answer.feature_refs[:n]],
                "dtypes": {k: clip(v, 100) for k, v in answer.dtypes.items() if k in names},
                # the shown features' and the run's own top ones (which may lie past the cut), of how many
                "importances": {k: v for k, v in answer.importances.items() if k in names or k in top},
                "importance_count": len(answer.importances) or None,
                "notes": [*small.notes, note],
            }
        )

    return fit(build, len(features), budget)
