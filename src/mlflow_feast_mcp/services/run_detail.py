"""One run in full, for `mlflow_get_run` and the run resource: summary, description, params with the
`features_part*` chunks folded, useful tags, top-level artifacts, the LoggedModels it logged,
datasets, registry versions, its parent (a sweep's trial) or its children (a sweep), best first."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from pydantic import BaseModel, Field

from ..backends.mlflow_api import MlflowApi, MlflowMissing
from ..backends.mlflow_models import Run
from ..core.answer import Answer
from ..core.budget import fit, may_fit
from ..core.formatting import clip, iso_from_ms, round_number
from . import conventions as conv
from .artifacts import model_folder, root_listing
from .diagnosis import CurveFinding, diagnose_run
from .logged_models import LoggedModelRow, model_row, models_of_run
from .runs import (
    FEATURE_PART,
    KEY_METRICS,
    RunSummary,
    description_of,
    fold_feature_parts,
    summarize_run,
    useful_tags,
)
from .sweeps import SweepSummary, children_of, summarize_sweep

CONCISE_OTHERS = 12  # metrics beyond the key ones in a concise run


class RunDataset(BaseModel):
    name: str | None = None
    digest: str | None = None
    source_type: str | None = None
    context: str | None = None


class RunDetail(RunSummary, Answer):
    experiment: str | None = None
    parent_run_name: str | None = None
    end_time: str | None = None
    duration_s: float | None = None
    description: str | None = Field(None, description="mlflow.note.content")
    params: dict[str, str] = Field({}, description="all params except features_part* (folded into features)")
    features: list[str] = Field([], description="features_part* params folded in order")
    tags: dict[str, str] = {}
    artifacts: list[str] = Field([], description="top-level artifact paths; directories end with '/'")
    logged_models: list[LoggedModelRow] = Field([], description="files: path 'models/<id>'")
    registered_versions: list[str] = Field([], description="'model vN (stage)' registered from this run")
    datasets: list[RunDataset] = []
    sweep: SweepSummary | None = Field(None, description="its trials, best first")
    diagnosis: list[CurveFinding] = Field([], description="curve readings (detailed only)")
    notes: list[str] = []


async def build_run_detail(
    api: MlflowApi, run: Run, detailed: bool, key_metrics: Sequence[str] = KEY_METRICS
) -> RunDetail:
    params = run.params
    summary = summarize_run(run, key_metrics, None if detailed else CONCISE_OTHERS)
    start, end = run.start_time, run.end_time
    experiment = await api.get_experiment(run.experiment_id)
    listing, unlisted = await root_listing(api, run.run_id)
    versions, _ = await api.search_model_versions(f"run_id = '{run.run_id}'", 50, None)
    registered = [f"{v.name} v{v.version} ({v.stage})" for v in sorted(versions, key=lambda v: v.version)]
    models = await models_of_run(api, run)
    features = fold_feature_parts(params, summary.feature_count)
    shown_params = {
        k: (v if detailed else clip(v, 300))
        for k, v in sorted(params.items())
        if not FEATURE_PART.match(k) and (detailed or k != conv.TOP_FEATURES)
    }
    if not detailed and conv.TOP_FEATURES in params:
        shown_params[conv.TOP_FEATURES] = clip(params[conv.TOP_FEATURES], 300)
    notes = [f"the run's artifacts could not be listed: {unlisted}"] if unlisted is not None else []
    if any(f.path == conv.SEED_ARTIFACT_FOLDER for f in listing) and not features:
        notes.append(
            "no features_part* params; see mlflow_get_run_features for training_artifacts/features.json"
        )
    if models:
        notes.append(
            f"model files (MLmodel, requirements...): mlflow_list_artifacts(run_id='{run.run_id}', "
            f"path='{model_folder(models[0].model_id)}')"
        )
    children, more = await children_of(api, run)
    return RunDetail(
        **summary.model_dump(),
        experiment=experiment.name if experiment else None,
        parent_run_name=await _parent_name(api, summary.parent_run_id),
        end_time=iso_from_ms(end),
        duration_s=round_number((end - start) / 1000) if start and end else None,
        description=description_of(run, 10_000 if detailed else 1000),
        params=shown_params,
        features=features,
        tags=useful_tags(run, 10_000 if detailed else 300),
        artifacts=[f.path + ("/" if f.is_dir else "") for f in listing]
        + [model_folder(m.model_id) + "/" for m in models],
        logged_models=[model_row(m, key_metrics, None if detailed else 4, run.metrics) for m in models],
        registered_versions=registered,
        datasets=[
            RunDataset(name=d.name, digest=d.digest, source_type=d.source_type, context=d.context)
            for d in run.datasets
        ],
        sweep=summarize_sweep(run, children, more, key_metrics) if children else None,
        diagnosis=await diagnose_run(api, run) if detailed else [],
        notes=notes,
    )


async def _parent_name(api: MlflowApi, parent_id: str | None) -> str | None:
    if not parent_id:
        return None
    with contextlib.suppress(MlflowMissing):
        return (await api.get_run(parent_id)).run_name
    return None


def fit_run_detail(detail: RunDetail, budget: int) -> RunDetail:
    """A run with thousands of params, features, metrics or artifacts, or with huge tags, is cut,
    never sent whole: tags are clipped first, then each long part keeps its first n entries, the
    largest n that fits, and the notes say what was cut and where the rest is read."""
    parts = {
        "params": list(detail.params.items()),
        "features": detail.features,
        "metrics": list(detail.metrics.items()),
        "artifacts": detail.artifacts,
        "datasets": detail.datasets,
        "registered_versions": detail.registered_versions,
        "nonfinite": detail.nonfinite,
    }
    widest = max(len(items) for items in parts.values())
    if may_fit(detail, widest, budget):
        return detail
    where = {
        "params": "mlflow_search_runs with filter on params.<name> reads a specific one",
        "features": f"mlflow_get_run_features(run_id='{detail.run_id}')",
        "artifacts": f"mlflow_list_artifacts(run_id='{detail.run_id}')",
    }
    clipped = detail.model_copy(
        update={
            "tags": {k: clip(v, 100) for k, v in list(detail.tags.items())[:30]},
            "description": clip(detail.description, 1000) if detail.description else None,
            "notes": [clip(n, 500) for n in detail.notes],
        }
    )

    def build(n: int) -> RunDetail:
        notes = list(clipped.notes)
        for name, items in parts.items():
            if len(items) > n and name != "metrics":  # more_metrics says it, with the call
                hint = f"; {where[name]}" if name in where else ""
                notes.append(f"truncated: showing {n} of {len(items)} {name}{hint}")
        more = (detail.more_metrics or 0) + max(len(parts["metrics"]) - n, 0)
        return clipped.model_copy(
            update={
                "params": dict(parts["params"][:n]),
                "features": parts["features"][:n],
                "metrics": dict(parts["metrics"][:n]),
                "more_metrics": more or None,
                "artifacts": parts["artifacts"][:n],
                "datasets": parts["datasets"][:n],
                "registered_versions": parts["registered_versions"][:n],
                "nonfinite": parts["nonfinite"][:n],
                "notes": notes,
            }
        )

    return fit(build, widest, budget)
