"""One run in full, for `mlflow_get_run` and the run resource: summary, params with the
`features_part*` chunks folded, useful tags, top-level artifacts, datasets, registry versions."""

from __future__ import annotations

from pydantic import BaseModel, Field

from ..backends.mlflow_api import MlflowApi
from ..backends.mlflow_models import Run
from ..core.answer import Answer
from ..core.budget import fit
from ..core.formatting import clip, iso_from_ms, round_number
from .artifacts import list_dir
from .diagnosis import CurveFinding, diagnose_run
from .runs import (
    FEATURE_PART,
    KEY_METRICS,
    RunSummary,
    fold_feature_parts,
    metrics_of,
    summarize_run,
    useful_tags,
)


class RunDataset(BaseModel):
    name: str | None = None
    digest: str | None = None
    source_type: str | None = None
    context: str | None = None


class RunDetail(RunSummary, Answer):
    experiment: str | None = None
    end_time: str | None = None
    duration_s: float | None = None
    params: dict[str, str] = Field({}, description="all params except features_part* (folded into features)")
    features: list[str] = Field([], description="features_part* params folded in order")
    tags: dict[str, str] = {}
    artifacts: list[str] = Field([], description="top-level artifact paths; directories end with '/'")
    registered_versions: list[str] = Field([], description="'model vN (stage)' registered from this run")
    datasets: list[RunDataset] = []
    diagnosis: list[CurveFinding] = Field([], description="curve readings (detailed only)")
    notes: list[str] = []


async def build_run_detail(api: MlflowApi, run: Run, detailed: bool) -> RunDetail:
    params = run.params
    summary = summarize_run(run, list(metrics_of(run)) if detailed else KEY_METRICS)
    start, end = run.start_time, run.end_time
    experiment = await api.get_experiment(run.experiment_id)
    listing = await list_dir(api, run.run_id, "")
    versions, _ = await api.search_model_versions(f"run_id = '{run.run_id}'", 50, None)
    registered = [f"{v.name} v{v.version} ({v.stage})" for v in sorted(versions, key=lambda v: v.version)]
    features = fold_feature_parts(params, summary.feature_count)
    shown_params = {
        k: (v if detailed else clip(v, 300))
        for k, v in sorted(params.items())
        if not FEATURE_PART.match(k) and (detailed or k != "top_features")
    }
    if not detailed and "top_features" in params:
        shown_params["top_features"] = clip(params["top_features"], 300)
    notes = []
    if any(f.path == "training_artifacts" for f in listing) and not features:
        notes.append(
            "no features_part* params; see mlflow_get_run_features for training_artifacts/features.json"
        )
    return RunDetail(
        **summary.model_dump(),
        experiment=experiment.name if experiment else None,
        end_time=iso_from_ms(end),
        duration_s=round_number((end - start) / 1000) if start and end else None,
        params=shown_params,
        features=features,
        tags=useful_tags(run, 10_000 if detailed else 300),
        artifacts=[f.path + ("/" if f.is_dir else "") for f in listing],
        registered_versions=registered,
        datasets=[
            RunDataset(name=d.name, digest=d.digest, source_type=d.source_type, context=d.context)
            for d in run.datasets
        ],
        diagnosis=await diagnose_run(api, run) if detailed else [],
        notes=notes,
    )


def fit_run_detail(detail: RunDetail, budget: int) -> RunDetail:
    """A run with thousands of params or huge tags is cut, never sent whole: tags are clipped first,
    then params are kept as far as they fit."""
    if detail.size() <= budget:
        return detail
    params = list(detail.params.items())
    clipped = detail.model_copy(update={"tags": {k: clip(v, 100) for k, v in list(detail.tags.items())[:30]}})

    def build(n: int) -> RunDetail:
        notes = list(detail.notes)
        if n < len(params):
            notes.append(
                f"truncated: showing {n} of {len(params)} params; "
                "use mlflow_search_runs with filter on params.<name> to read a specific one"
            )
        return clipped.model_copy(update={"params": dict(params[:n]), "notes": notes})

    return fit(build, len(params), budget)
