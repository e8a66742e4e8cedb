"""Runs side by side against a baseline: param changes, metric deltas, features added and removed,
importance shifts of the baseline's top features."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from ..backends.mlflow_api import MlflowApi
from ..backends.mlflow_models import Run
from ..core.answer import Answer
from ..core.budget import fit, may_fit
from ..core.formatting import clip, round_number
from .conventions import ALGORITHM_PARAMS, FEATURE_COUNT, MODEL_VERSION, metric_order
from .features import run_features
from .runs import FEATURE_PART, HEADLINE, KEY_METRICS, RunSummary, metrics_of, summarize_run


class MetricDelta(BaseModel):
    values: list[float | int | None]
    deltas: list[float | int | None] = Field(
        [], description="each later run's value minus the first's; absent when none has both"
    )


class FeatureDiff(BaseModel):
    run_id: str
    added: list[str] = []
    removed: list[str] = []


SHIFTS_SHOWN = 5  # importance shifts a concise answer shows


def _changed(delta: MetricDelta) -> bool:
    return len({str(v) for v in delta.values}) > 1


class RunComparison(Answer):
    versions: list[str | None] = Field(
        [], description="the model version each run stands for, when asked by version"
    )
    runs: list[RunSummary]
    param_changes: dict[str, list[str | None]] = Field(
        description="param -> value per run, for the params that differ "
        "(features_part* and top_features are compared as features/importances)"
    )
    unchanged_params: int
    metric_deltas: dict[str, MetricDelta] = Field(description="metric -> values and deltas per run")
    metrics_same: dict[str, float | int] = Field(
        {}, description="concise form: the metrics equal in every run (not repeated per run)"
    )
    feature_sources: list[str] = []
    feature_changes: list[FeatureDiff] = Field(description="features added/removed against the first run")
    importance_shifts: dict[str, list[float | None]] = Field(
        {}, description="importance per run for the first run's top features"
    )
    truncated: bool = False
    notes: list[str] = []

    def concise(self) -> RunComparison:
        """What the text tells: the metrics that changed and those the same in every run (once, not
        per run), the baseline's five top features' shifts, the feature records only when not all are
        features.json, no start times."""
        bare = {"start_time": None, "metrics": {}, "more_metrics": None}
        bare |= {field: None for field in self._headline_as_params()}
        return self.model_copy(
            update={
                "runs": [r.model_copy(update=bare) for r in self.runs],
                "metric_deltas": {k: d for k, d in self.metric_deltas.items() if _changed(d)},
                "metrics_same": self._same(),
                "importance_shifts": dict(list(self.importance_shifts.items())[:SHIFTS_SHOWN]),
                "feature_sources": self.feature_sources if self._mixed_sources() else [],
            }
        )

    def _headline_as_params(self) -> set[str]:
        """The run summaries' headline fields whose values per run are those of a changed param."""
        changed = [list(values) for values in self.param_changes.values()]
        return {
            field
            for field in HEADLINE
            if [None if (v := getattr(r, field)) is None else str(v) for r in self.runs] in changed
        }

    def _told_elsewhere(self) -> frozenset[str]:
        """What the run lines leave to the lines below: metrics always, a headline field when it is
        missing from the summaries because a changed param tells it."""
        by_name = {
            "model_version": {MODEL_VERSION},
            "feature_count": {FEATURE_COUNT},
            "algorithm": set(ALGORITHM_PARAMS),
        }
        told = {"metrics"}
        for field, params in by_name.items():
            if params & set(self.param_changes) and all(getattr(r, field) is None for r in self.runs):
                told.add(field)
        return frozenset(told)

    def _same(self) -> dict[str, float | int]:
        unchanged = {k: d.values[0] for k, d in self.metric_deltas.items() if not _changed(d)}
        return self.metrics_same or {k: v for k, v in unchanged.items() if v is not None}

    def _mixed_sources(self) -> bool:
        return any(not s.split(": ", 1)[-1].startswith("features.json") for s in self.feature_sources)

    def render_text(self) -> str:
        """Each run in a line, then only what differs: metrics, params, features, importances."""
        from ..core.render import scalar
        from .runs import metrics_text, run_line

        def arrow(values: list) -> str:
            return " -> ".join(scalar(v) for v in values)

        lines = []
        for i, run in enumerate(self.runs):
            label = self.versions[i] if i < len(self.versions) and self.versions[i] else None
            prefix = "baseline" if i == 0 else f"#{i + 1}"
            # a run's metrics are told once below, as changed or the same in every run
            line = run_line(run, self._told_elsewhere())
            lines.append(f"{prefix}: " + (f"{label} = " if label else "") + line)
        deltas = [
            f"{scalar(k)} {arrow(d.values)}"
            + (f" ({', '.join(f'{x:+}' for x in d.deltas if x is not None)})" if any(d.deltas) else "")
            for k, d in self.metric_deltas.items()
            if _changed(d)
        ]
        lines.append("metrics changed: " + ("; ".join(deltas) or "none"))
        if same := self._same():
            lines.append("metrics same: " + metrics_text(same, None))
        lines.append(
            f"params changed ({len(self.param_changes)}, {self.unchanged_params} same): "
            + ("; ".join(f"{scalar(k)} {arrow(v)}" for k, v in self.param_changes.items()) or "none")
        )
        for diff in self.feature_changes:
            added = ", ".join(scalar(f) for f in diff.added) or "none"
            removed = ", ".join(scalar(f) for f in diff.removed) or "none"
            lines.append(f"features vs baseline ({diff.run_id[:8]}): added {added}; removed {removed}")
        if self.importance_shifts:
            shifts = list(self.importance_shifts.items())[:SHIFTS_SHOWN]
            lines.append(
                "importance of baseline's top features: "
                + "; ".join(f"{scalar(k)} {arrow(v)}" for k, v in shifts)
            )
        if self._mixed_sources():
            lines.append("feature records: " + ", ".join(self.feature_sources))
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


async def compare_runs(
    api: MlflowApi,
    runs: list[Run],
    labels: list[str | None] | None = None,
    key_metrics: Sequence[str] = KEY_METRICS,
) -> RunComparison:
    """Compare `runs` against the first; `labels` name the model versions they stand for."""
    features = [await run_features(api, run) for run in runs]
    params = [
        {k: v for k, v in r.params.items() if not FEATURE_PART.match(k) and k != "top_features"} for r in runs
    ]
    metrics = [metrics_of(r) for r in runs]
    keys = sorted({k for p in params for k in p})
    changes = {
        k: [clip(p[k], 200) if k in p else None for p in params]
        for k in keys
        if len({p.get(k) for p in params}) > 1
    }
    metric_keys = metric_order(sorted({k for m in metrics for k in m}), key_metrics)
    deltas: dict[str, MetricDelta] = {}
    for key in metric_keys:
        values = [m.get(key) for m in metrics]
        if all(v is None for v in values):
            continue
        base = values[0]
        later = [round_number(v - base) if v is not None and base is not None else None for v in values[1:]]
        deltas[key] = MetricDelta(values=values, deltas=later if any(x is not None for x in later) else [])
    base_features = features[0].features
    base_set = set(base_features)
    diffs = []
    for f in features[1:]:
        names = set(f.features)
        diffs.append(
            FeatureDiff(
                run_id=f.run_id,
                added=[x for x in f.features if x not in base_set],
                removed=[x for x in base_features if x not in names],
            )
        )
    shifts = {name: [f.importances.get(name) for f in features] for name in features[0].top_features[:10]}
    return RunComparison(
        versions=labels if labels and any(labels) else [],
        runs=[summarize_run(r, key_metrics) for r in runs],
        param_changes=changes,
        unchanged_params=len(keys) - len(changes),
        metric_deltas=deltas,
        feature_sources=[f"{f.run_id[:8]}: {f.source} ({f.feature_count})" for f in features],
        feature_changes=diffs,
        importance_shifts=shifts,
    )


def fit_comparison(comparison: RunComparison, budget: int) -> RunComparison:
    """Runs that differ in thousands of params or features keep the first n of each list of
    differences, the largest n that fits, and say so."""
    lists = {
        "param changes": len(comparison.param_changes),
        "metric deltas": len(comparison.metric_deltas),
        **{f"features added in {d.run_id[:8]}": len(d.added) for d in comparison.feature_changes},
        **{f"features removed in {d.run_id[:8]}": len(d.removed) for d in comparison.feature_changes},
    }
    if may_fit(comparison, max(lists.values()), budget):
        return comparison
    runs = [r.model_copy(update={"metrics": dict(list(r.metrics.items())[:10])}) for r in comparison.runs]
    for run, whole in zip(runs, comparison.runs, strict=True):
        run.more_metrics = (whole.more_metrics or 0) + len(whole.metrics) - len(run.metrics) or None
    short = [(clip(k, 200), v) for k, v in comparison.param_changes.items()]

    def build(n: int) -> RunComparison:
        cut = [f"truncated: showing {n} of {count} {what}" for what, count in lists.items() if count > n]
        return comparison.model_copy(
            update={
                "runs": runs,
                "param_changes": dict(short[:n]),
                "metric_deltas": dict(list(comparison.metric_deltas.items())[:n]),
                "feature_changes": [
                    d.model_copy(
                        update={
                            "added": [clip(x, 300) for x in d.added[:n]],
                            "removed": [clip(x, 300) for x in d.removed[:n]],
                        }
                    )
                    for d in comparison.feature_changes
                ],
                "truncated": bool(cut),
                "notes": [*comparison.notes, *cut[:6]],
            }
        )

    return fit(build, max(lists.values()), budget)
