"""MLflow 3 LoggedModels (`m-...`): what `log_model(name=...)` makes. A model has its own params,
metrics (per dataset), tags, status and files (MLmodel with the signature, requirements,
input_example); registry versions are made from it (`source: models:/m-...`). Searched by MLflow's
filter syntax, read one by id, summarised wherever a run or version is."""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from ..backends.mlflow_api import MlflowApi, MlflowMissing
from ..backends.mlflow_models import Experiment, Json, LoggedModel, ModelMetric, ModelVersion, Run
from ..core import safe_json
from ..core.budget import fit
from ..core.errors import BackendUnavailable, InvalidArgument, NotFound, quote
from ..core.formatting import clip, iso_from_ms, round_number
from ..core.paging import PageInfo, Pager
from ..core.render import scalar, table
from . import conventions as conv

MODEL_ID = re.compile(r"^m-[0-9a-f]{32}$")
MODELS_URI = re.compile(r"^models:/(m-[0-9a-f]{32})$")
MLMODEL_LIMIT = 1_000_000  # bytes of MLmodel read; its signature is near the end


def is_model_id(text: str) -> bool:
    return bool(MODEL_ID.match(text.strip()))


def model_id_of_source(source: str | None) -> str | None:
    """`models:/m-...` (how MLflow 3 records a version's source) -> `m-...`."""
    match = MODELS_URI.match((source or "").strip())
    return match.group(1) if match else None


def metric_label(metric: ModelMetric) -> str:
    """`test_roc_auc[churn_test]` for a metric computed on a dataset, else the bare key."""
    return f"{metric.key}[{metric.dataset_name}]" if metric.dataset_name else metric.key


def model_metrics(
    model: LoggedModel,
    key_metrics: Sequence[str],
    limit: int | None,
    run_metrics: dict[str, float] | None = None,
) -> tuple[dict[str, float | int], int | None]:
    """Dataset-scoped metrics first (they are the model's own), key metrics first within each
    group; bounded by `limit` (all when None), with the count left out. Copies of `run_metrics`
    (MLflow copies the run's metrics onto the model, autolog's on its own dataset) are left out
    when the run is shown beside it; metrics on a named dataset always stay."""
    latest: dict[str, ModelMetric] = {}
    for metric in sorted(model.metrics, key=lambda m: m.step):
        copy = run_metrics is not None and run_metrics.get(metric.key) == metric.value
        if (copy and metric.dataset_name in (None, conv.AUTOLOG_DATASET)) or not math.isfinite(metric.value):
            continue  # a copy of the run's metric, or a value JSON cannot carry (the run names those)
        latest[metric_label(metric)] = metric
    scoped = [m for m in latest.values() if m.dataset_name]
    plain = [m for m in latest.values() if not m.dataset_name]
    ordered: list[ModelMetric] = []
    for group in (scoped, plain):
        by_key = {m.key: m for m in group}
        order = conv.metric_order(list(by_key), key_metrics)
        ordered += sorted(group, key=lambda m: (order.index(m.key), m.dataset_name or ""))
    shown = ordered if limit is None else ordered[:limit]
    metrics = {metric_label(m): round_number(m.value) for m in shown}
    return metrics, (len(ordered) - len(shown)) or None


class LoggedModelRow(BaseModel):
    """A LoggedModel in a line."""

    model_id: str
    name: str
    status: str | None = Field(None, description="unless READY")
    source_run_id: str | None = None
    created: str | None = None
    model_type: str | None = None
    metrics: dict[str, float | int] = Field({}, description="'key[dataset]' if on a dataset")
    more_metrics: int | None = None
    registered_versions: list[str] = []


def model_row(
    model: LoggedModel,
    key_metrics: Sequence[str],
    limit: int | None = 6,
    run_metrics: dict[str, float] | None = None,
) -> LoggedModelRow:
    """`run_metrics`: the source run's, shown beside the model (their copies, and the run's id, are
    left out)."""
    metrics, more = model_metrics(model, key_metrics, limit, run_metrics)
    return LoggedModelRow(
        model_id=model.model_id,
        name=model.name,
        status=None if model.status == "READY" else model.status,
        source_run_id=model.source_run_id if run_metrics is None else None,
        created=iso_from_ms(model.creation_timestamp),
        model_type=model.model_type,
        metrics=metrics,
        more_metrics=more,
        registered_versions=[f"{name} v{number}" for name, number in model.registered_versions()],
    )


class Signature(BaseModel):
    """A model's signature from its MLmodel file: the inputs it takes and what it predicts."""

    inputs: list[str] = []
    input_types: dict[str, str] = {}
    outputs: list[str] = []
    output_names: list[str] = Field([], description="named outputs: labels")


def _colspecs(raw: Any) -> list[dict[str, Any]]:
    if isinstance(raw, str):
        try:
            raw = safe_json.loads(raw)
        except ValueError:
            return []
    return [c for c in raw if isinstance(c, dict)] if isinstance(raw, list) else []


def parse_signature(mlmodel: Any) -> Signature | None:
    """The `signature` block of a parsed MLmodel (its inputs/outputs are JSON strings in the YAML)."""
    block = mlmodel.get("signature") if isinstance(mlmodel, dict) else None
    if not isinstance(block, dict):
        return None
    inputs = _colspecs(block.get("inputs"))
    outputs = _colspecs(block.get("outputs"))
    names = [str(c["name"]) for c in inputs if c.get("name")]
    types = {str(c["name"]): str(c.get("type", "")) for c in inputs if c.get("name") and c.get("type")}
    out_names = [str(c["name"]) for c in outputs if c.get("name")]
    described = [
        str(c["name"])
        if c.get("name")
        else f"{c.get('type', '?')} {c.get('tensor-spec', {}).get('dtype', '')}".strip()
        for c in outputs
    ]
    if not names and inputs:  # a tensor input: no column names to report
        described_in = [f"tensor {c.get('tensor-spec', {}).get('dtype', '?')}" for c in inputs]
        return Signature(inputs=described_in, outputs=described, output_names=out_names)
    return Signature(inputs=names, input_types=types, outputs=described, output_names=out_names)


async def read_mlmodel(api: MlflowApi, model_id: str) -> dict[str, Any] | None:
    """The model's MLmodel file, parsed (YAML, safe loader without aliases: a stored file cannot
    expand itself a billion times); None when it has none or it cannot be read."""
    try:
        data, _ = await api.read_logged_model_artifact(model_id, "MLmodel", 0, MLMODEL_LIMIT)
    except MlflowMissing:
        return None
    parsed = safe_yaml(data)
    return parsed if isinstance(parsed, dict) else None


def safe_yaml(data: bytes) -> Any:
    import yaml

    class NoAliases(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                raise yaml.YAMLError("YAML aliases are not read")
            return super().compose_node(parent, index)

    try:
        return yaml.load(data.decode("utf-8", errors="replace"), Loader=NoAliases)
    except (yaml.YAMLError, RecursionError):
        return None


async def get_logged_model(api: MlflowApi, model_id: str) -> LoggedModel:
    if not is_model_id(model_id):
        raise InvalidArgument(
            f"{quote(model_id)} is not a LoggedModel id ('m-' and 32 hex characters). "
            "Find ids with mlflow_search_logged_models or mlflow_get_run."
        )
    try:
        return await api.get_logged_model(model_id.strip())
    except MlflowMissing:
        raise NotFound(
            f"No LoggedModel {quote(model_id)}. Find models with mlflow_search_logged_models."
        ) from None


async def models_of_run(api: MlflowApi, run: Run, limit: int = 20) -> list[LoggedModel]:
    """The LoggedModels a run logged: the run's outputs (in its order), then any other model whose
    source is the run."""
    if not run.model_ids:
        return []
    found, _ = await api.search_logged_models(
        [run.experiment_id], f"source_run_id = '{run.run_id}'", [], [], limit, None
    )
    by_id = {m.model_id: m for m in found}
    for model_id in run.model_ids[:limit]:
        if model_id not in by_id:  # a model logged into another experiment
            try:
                by_id[model_id] = await api.get_logged_model(model_id)
            except MlflowMissing:
                continue
    ordered = [by_id[i] for i in run.model_ids if i in by_id]
    return ordered + [m for m in by_id.values() if m not in ordered]


async def versions_from_model(api: MlflowApi, model: LoggedModel) -> list[ModelVersion]:
    """Registry versions whose source is the model, newest first: searched by source, else from the
    `mlflow.modelVersions` tag MLflow keeps on the model."""
    try:
        found, _ = await api.search_model_versions(f"source_path = 'models:/{model.model_id}'", 50, None)
    except (InvalidArgument, BackendUnavailable):
        found = []
    wanted = model.registered_versions()
    for name in dict.fromkeys(n for n, _ in wanted) if not found else ():
        escaped = name.replace("'", "\\'")
        try:
            page, _ = await api.search_model_versions(f"name = '{escaped}'", 200, None)
        except (InvalidArgument, BackendUnavailable):
            continue
        found += [v for v in page if (v.name, v.version) in wanted]
    return sorted(found, key=lambda v: (v.name, -v.version))


async def signature_of(api: MlflowApi, model_id: str) -> Signature | None:
    return parse_signature(await read_mlmodel(api, model_id))


def clipped_tags(tags: dict[str, str], limit: int = 300) -> dict[str, str]:
    return {k: clip(v, limit) for k, v in tags.items() if not k.startswith("mlflow.")}


# -- the answers of mlflow_search_logged_models ---------------------------------------------------


class LoggedModelDetail(BaseModel):
    """One LoggedModel in full."""

    model_id: str
    name: str
    status: str
    experiment: str | None = None
    source_run_id: str | None = None
    source_run_name: str | None = None
    created: str | None = Field(None, description="ISO 8601 UTC")
    model_type: str | None = None
    registered_versions: list[str] = []
    metrics: dict[str, float | int] = {}
    params: dict[str, str] = {}
    tags: dict[str, str] = {}
    signature: Signature | None = None
    flavors: list[str] = []
    size_bytes: int | None = None
    files: list[str] = []
    notes: list[str] = []


class LoggedModelPage(PageInfo):
    experiment: str
    experiment_id: str
    filter: str | None = None
    dataset: str | None = None
    order_by: list[str] = []
    models: list[LoggedModelRow] = []
    model: LoggedModelDetail | None = Field(None, description="read by model_id")

    def render_text(self) -> str:
        if self.model is not None:
            return render_detail(self.model)
        head = f"logged models of {scalar(self.experiment)} (id {self.experiment_id}); order: " + ", ".join(
            scalar(o) for o in self.order_by
        )
        if self.filter:
            head += f"; filter: {scalar(self.filter)}"
        if self.dataset:
            head += f"; metrics on dataset {scalar(self.dataset)}"
        rows = [
            {
                "model_id": r.model_id,
                "name": r.name,
                "status": r.status,
                "source_run_id": r.source_run_id,
                "created": r.created,
                "registered": r.registered_versions or None,
                "metrics": ", ".join(
                    [f"{scalar(k)}={scalar(v)}" for k, v in r.metrics.items()]
                    + ([f"+{r.more_metrics}"] if r.more_metrics else [])
                ),
            }
            for r in self.models
        ]
        lines = [head, f"models ({len(rows)}):" if rows else "models: none match"]
        lines += table(rows, "  ") if rows else []
        lines += [self.hint] if self.hint else []
        return "\n".join(lines)


def render_detail(m: LoggedModelDetail) -> str:
    run = f"run {scalar(m.source_run_name)} ({m.source_run_id})" if m.source_run_id else "no source run"
    lines = [
        f"logged model {m.model_id} {scalar(m.name)} ({m.status}) from {run} in {scalar(m.experiment)}; "
        f"created {m.created}" + (f"; type {scalar(m.model_type)}" if m.model_type else ""),
        "registered as: " + (", ".join(m.registered_versions) or "no registry version made from it"),
        "metrics: " + (", ".join(f"{scalar(k)}={scalar(v)}" for k, v in m.metrics.items()) or "none"),
    ]
    if m.params:
        lines.append(
            f"params ({len(m.params)}): " + ", ".join(f"{scalar(k)}={scalar(v)}" for k, v in m.params.items())
        )
    if m.signature:
        sig = m.signature
        typed = [
            f"{scalar(n)}:{sig.input_types[n]}" if n in sig.input_types else scalar(n) for n in sig.inputs
        ]
        lines.append(f"signature inputs ({len(sig.inputs)}): " + ", ".join(typed))
        lines.append("signature outputs: " + (", ".join(scalar(o) for o in sig.outputs) or "none"))
    if m.flavors or m.size_bytes:
        lines.append(f"flavors: {', '.join(scalar(f) for f in m.flavors) or '-'}; size {m.size_bytes} bytes")
    if m.files:
        lines.append("files: " + ", ".join(scalar(f) for f in m.files))
    if m.tags:
        lines.append("tags: " + ", ".join(f"{scalar(k)}={scalar(v)}" for k, v in m.tags.items()))
    lines += [f"note: {n}" for n in m.notes]
    return "\n".join(lines)


def _order_items(order_by: list[str], dataset: Json | None) -> tuple[list[Json], list[str]]:
    """`metrics.test_roc_auc DESC` -> MLflow's order item (scoped to `dataset` for metrics)."""
    items, shown = [], []
    for text in order_by:
        parts = text.strip().split()
        if not parts or len(parts) > 2 or (len(parts) == 2 and parts[1].upper() not in ("ASC", "DESC")):
            raise InvalidArgument(
                f"order_by item {quote(text)} is not '<field> [ASC|DESC]', e.g. 'metrics.val_accuracy DESC'."
            )
        item: Json = {"field_name": parts[0], "ascending": len(parts) == 1 or parts[1].upper() == "ASC"}
        if dataset and parts[0].startswith("metrics."):
            item.update(dataset)
        items.append(item)
        shown.append(f"{parts[0]} {'ASC' if item['ascending'] else 'DESC'}")
    return items, shown


async def dataset_filters(api: MlflowApi, experiment_id: str, dataset: str) -> list[Json]:
    """`{dataset_name, dataset_digest}` for every digest of `dataset` the experiment's models have
    metrics on. MLflow 3.17's REST handler matches nothing when the digest is omitted, so the digests
    are looked up rather than left out."""
    name, _, digest = dataset.strip().partition("@")
    if digest:
        return [{"dataset_name": name, "dataset_digest": digest}]
    models, _ = await api.search_logged_models([experiment_id], None, [], [], 200, None)
    seen = {m.dataset_name: set() for model in models for m in model.metrics if m.dataset_name}
    for model in models:
        for m in model.metrics:
            if m.dataset_name and m.dataset_digest:
                seen[m.dataset_name].add(m.dataset_digest)
    if name not in seen:
        raise NotFound(
            f"No LoggedModel of this experiment has metrics on dataset {quote(name)}. Datasets with model "
            f"metrics: {', '.join(sorted(seen)) or 'none'}."
        )
    return [{"dataset_name": name, "dataset_digest": d} for d in sorted(seen[name])] or [
        {"dataset_name": name}
    ]


async def search_models(
    api: MlflowApi,
    experiment: Experiment,
    filter_string: str | None,
    dataset: str | None,
    order_by: list[str] | None,
    page_size: int,
    page_token: str | None,
    budget: int,
    key_metrics: Sequence[str],
) -> LoggedModelPage:
    if filter_string and any(ch in filter_string for ch in "\x00\r\n"):
        raise InvalidArgument("filter must be a single line of MLflow filter syntax.")
    datasets = await dataset_filters(api, experiment.experiment_id, dataset) if dataset else []
    items, shown = _order_items(order_by or ["creation_timestamp DESC"], datasets[0] if datasets else None)
    pager = Pager.open(
        "mlflow_search_logged_models",
        page_token,
        experiment.experiment_id,
        filter_string,
        dataset,
        shown,
        page_size,
    )
    models, next_cursor = await api.search_logged_models(
        [experiment.experiment_id], filter_string, datasets, items, page_size, pager.backend_token
    )
    rows = [model_row(m, key_metrics, 4) for m in models]
    return pager.page(
        rows,
        lambda chosen, info: LoggedModelPage(
            experiment=experiment.name,
            experiment_id=experiment.experiment_id,
            filter=filter_string or None,
            dataset=dataset or None,
            order_by=shown,
            models=chosen,
            **info.model_dump(),
        ),
        budget,
        next_cursor,
    )


async def describe_model(
    api: MlflowApi, model_id: str, key_metrics: Sequence[str], budget: int
) -> LoggedModelPage:
    """One model by id: source run, registry versions, every metric, params, signature, files."""
    model = await get_logged_model(api, model_id)
    experiment = await api.get_experiment(model.experiment_id)
    detail = LoggedModelDetail(
        model_id=model.model_id,
        name=model.name,
        status=model.status,
        experiment=experiment.name if experiment else model.experiment_id,
        source_run_id=model.source_run_id,
        created=iso_from_ms(model.creation_timestamp),
        model_type=model.model_type,
        metrics=model_metrics(model, key_metrics, None)[0],
        tags=clipped_tags(model.tags),
    )
    if model.source_run_id:
        with contextlib.suppress(MlflowMissing):
            detail.source_run_name = (await api.get_run(model.source_run_id)).run_name
    detail.registered_versions = await _version_labels(api, model)
    await _with_files(api, model, detail)
    page = LoggedModelPage(  # one model: a list of one, said as such
        experiment=detail.experiment or "",
        experiment_id=model.experiment_id,
        model=detail,
        returned=1,
        has_more=False,
    )
    params = sorted(model.params.items())

    def build(n: int) -> LoggedModelPage:
        cut = detail.model_copy(update={"params": {k: clip(v, 200) for k, v in params[:n]}})
        if n < len(params):
            cut.notes = [*cut.notes, f"truncated: showing {n} of {len(params)} params"]
        return page.model_copy(update={"model": cut, "truncated": n < len(params)})

    return fit(build, len(params), budget)


async def _version_labels(api: MlflowApi, model: LoggedModel) -> list[str]:
    versions = await versions_from_model(api, model)
    aliases: dict[str, dict[int, list[str]]] = {}
    for name in dict.fromkeys(v.name for v in versions):
        with contextlib.suppress(MlflowMissing):
            aliases[name] = (await api.get_registered_model(name)).aliases_by_version()
    labels = []
    for v in versions:
        marks = [v.stage] + [f"@{a}" for a in sorted(aliases.get(v.name, {}).get(v.version, []))]
        labels.append(f"{v.name} v{v.version} ({'; '.join(marks)})")
    return labels


async def _with_files(api: MlflowApi, model: LoggedModel, detail: LoggedModelDetail) -> None:
    """The MLmodel's signature, flavors and size, and the top-level files with how to read them."""
    try:
        mlmodel = await read_mlmodel(api, model.model_id)
        files = await api.list_logged_model_artifacts(model.model_id, None)
    except BackendUnavailable as exc:
        detail.notes.append(f"the model's files could not be read: {str(exc)[:300]}")
        return
    except MlflowMissing:
        mlmodel, files = None, []
    if mlmodel:
        detail.signature = parse_signature(mlmodel)
        flavors = mlmodel.get("flavors")
        detail.flavors = sorted(flavors) if isinstance(flavors, dict) else []
        size = mlmodel.get("model_size_bytes")
        detail.size_bytes = size if isinstance(size, int) else None
    detail.files = [f.path + ("/" if f.is_dir else "") for f in files]
    if model.source_run_id and files:
        detail.notes.append(
            f"read a file: mlflow_read_artifact(run_id='{model.source_run_id}', "
            f"path='models/{model.model_id}/MLmodel')"
        )
