"""The seed's "Validation" checklist for one training run, computed from the stores: each check
pass / fail / warn / skipped with its evidence (values, paths, versions), plus what changed since
the previous run of the experiment. MCP-free: the tool renders it, tests and prompts rely on it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from ..backends.mlflow_api import MlflowApi
from ..backends.mlflow_models import Experiment, ModelVersion, Run
from ..core.answer import Answer
from ..core.budget import fit
from ..core.formatting import clip, iso_from_ms, round_number
from ..core.render import scalar
from . import conventions as conv
from .artifacts import list_dir, root_listing
from .checks import LIST_LIMIT, Check, CheckStatus, Evidence
from .checks import names as _names
from .convention_checks import (
    ACCURACY_DROP,
    OVERFIT_GAP,
    check_artifacts_by_convention,
    check_metrics_by_convention,
    check_params_by_convention,
    comparison_metric,
    previous_run,
)
from .diagnosis import diagnose_run
from .feast_alignment import align, freshness_check
from .features import RunFeatures, run_features
from .runs import FEATURE_PART, KEY_METRICS, RunSummary, metrics_of, summarize_run

REQUIRED_PARAMS = conv.SEED_PARAMS
REQUIRED_METRICS = conv.SEED_METRICS
REQUIRED_ARTIFACTS = conv.SEED_ARTIFACTS
TEST_SHARE = (0.05, 0.5)  # a plausible held-out share of all samples
FEATURES_SHOWN = 20  # features added or removed a concise answer names
__all__ = [
    "LIST_LIMIT",
    "OVERFIT_GAP",
    "Check",
    "CheckStatus",
    "Evidence",
    "ValidationReport",
    "validate_run",
]


class MetricChange(BaseModel):
    previous: float | int | None = None
    current: float | int | None = None
    delta: float | int | None = None


class RunChanges(BaseModel):
    """What changed between the previous run of the experiment and this one."""

    previous_run_id: str
    previous_run_name: str | None = None
    previous_start_time: str | None = None
    param_changes: dict[str, list[str | None]] = Field({}, description="param -> [previous, current]")
    features_added: list[str] = []
    features_removed: list[str] = []
    metric_changes: dict[str, MetricChange] = Field({}, description="metric -> previous, current, delta")


class ValidationReport(Answer):
    """The checklist's outcome for one run; `verdict` is the first line the model reads."""

    verdict: str = Field(description="'PASS: 9/9 checks' or 'FAIL: 2 of 9 checks failed: artifacts, metrics'")
    passed: bool
    run: RunSummary
    experiment: str | None = None
    checks: list[Check]
    changes: RunChanges | None = Field(None, description="against the previous finished run, when compared")
    truncated: bool = False

    def concise(self) -> ValidationReport:
        """What the text tells: each check's summary without its evidence, the run without its metrics
        (the checks quote the ones that decided), the changed metrics only."""
        ch = self.changes
        return self.model_copy(
            update={
                "run": self.run.model_copy(update={"metrics": {}, "more_metrics": None}),
                "checks": [c.model_copy(update={"evidence": {}}) for c in self.checks],
                "changes": None
                if ch is None
                else ch.model_copy(
                    update={
                        "previous_start_time": None,
                        "metric_changes": {k: m for k, m in ch.metric_changes.items() if _shown(m)},
                        "features_added": _recap(ch.features_added, FEATURES_SHOWN),
                        "features_removed": _recap(ch.features_removed, FEATURES_SHOWN),
                    }
                ),
            }
        )

    def render_text(self) -> str:
        """The compact answer: the verdict first, one line per check, then what changed."""
        r = self.run
        lines = [
            self.verdict,
            f"run: {scalar(r.run_name)} ({r.run_id}) in {scalar(self.experiment or '?')}, {scalar(r.status)}, "
            f"started {r.start_time or '?'}",
        ]
        lines += [f"[{c.status}] {c.name}: {c.summary}" for c in self.checks]
        ch = self.changes
        if ch is not None:
            lines.append(f"changes vs previous run {scalar(ch.previous_run_name)} ({ch.previous_run_id}):")
            if ch.param_changes:
                lines.append(
                    "  params: "
                    + "; ".join(
                        f"{scalar(k)} {_val(v[0])} -> {_val(v[1])}" for k, v in ch.param_changes.items()
                    )
                )
            if ch.features_added or ch.features_removed:
                lines.append(
                    f"  features added: {_short(ch.features_added, len(ch.features_added)) or 'none'}; "
                    f"removed: {_short(ch.features_removed, len(ch.features_removed)) or 'none'}"
                )
            deltas = {k: m for k, m in ch.metric_changes.items() if _shown(m)}
            if deltas:
                lines.append(
                    "  metrics: "
                    + "; ".join(
                        f"{scalar(k)} {_val(m.previous)} -> {_val(m.current)}"
                        + (f" ({m.delta:+g})" if m.delta is not None else "")
                        for k, m in deltas.items()
                    )
                )
            if not (ch.param_changes or ch.features_added or ch.features_removed or deltas):
                lines.append("  nothing changed in params, features or metrics")
        if self.truncated:
            lines.append(
                "truncated: evidence lists were cut to fit the response budget; "
                "see mlflow_get_run / mlflow_compare_runs"
            )
        return "\n".join(lines)


def _shown(m: MetricChange) -> bool:
    """A metric change the text names: it moved, appeared or disappeared."""
    return m.delta not in (None, 0) or m.previous is None or m.current is None


def _short(values: list[str], limit: int = 8) -> str:
    """Stored names (features, paths; each already clipped), each by the one rule for stored text."""
    cut = values[-1] if values and values[-1].startswith("... +") else None  # `names`' own count
    listed = values[:-1] if cut else values
    shown = ", ".join(scalar(v) for v in listed[:limit])
    more = _count(values) - min(limit, len(listed))
    return shown + (f" (+{more} more)" if more else "")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# ---- the checks ------------------------------------------------------------------------------------


def check_run(run: Run, experiment: Experiment | None, default_experiment: str) -> Check:
    status = run.status
    exp_name = experiment.name if experiment else run.experiment_id
    evidence: dict[str, Evidence] = {
        "run_id": run.run_id,
        "run_name": run.run_name,
        "experiment": exp_name,
        "status": status,
    }
    where = f"in {scalar(exp_name)}"
    if run.lifecycle_stage == "deleted":
        evidence["lifecycle_stage"] = "deleted"
        return Check(
            name="run",
            status="fail",
            summary=f"deleted: the run is in MLflow's trash {where} (restore it, or validate another run)",
            evidence=evidence,
        )
    if status != "FINISHED":
        why = "still running" if status in ("RUNNING", "SCHEDULED") else "did not finish"
        return Check(name="run", status="fail", summary=f"status {status} ({why}) {where}", evidence=evidence)
    if exp_name != default_experiment:
        return Check(
            name="run",
            status="warn",
            summary=f"FINISHED, but {where}, not the default experiment '{default_experiment}'",
            evidence=evidence,
        )
    return Check(name="run", status="pass", summary=f"FINISHED {where}", evidence=evidence)


def check_params(run: Run, features: RunFeatures) -> Check:
    if conv.convention_of(run) != "seed":
        return check_params_by_convention(run, features)
    params = run.params
    missing = [p for p in REQUIRED_PARAMS if not params.get(p, "").strip()]
    parts = sorted((k for k in params if FEATURE_PART.match(k)), key=lambda k: int(FEATURE_PART.match(k)[1]))
    evidence: dict[str, Evidence] = {p: clip(params[p], 200) for p in REQUIRED_PARAMS if p in params}
    evidence["features_part_params"] = _names(parts)
    evidence["feature_list_source"] = features.source
    if features.source not in ("features.json", "features_part params", "feast_features.json"):
        missing.append("features (no features_part* params and no training_artifacts/features.json)")
    shown = ", ".join(
        f"{p}={scalar(clip(params[p], 40))}"
        for p in ("model_version", "algorithm", "feature_count")
        if p in params
    )
    feature_note = f"features from {features.source} ({features.feature_count})"
    if missing:
        return Check(
            name="params",
            status="fail",
            summary=f"missing: {', '.join(missing)}; present: {shown or 'none'}; {feature_note}",
            evidence=evidence,
        )
    return Check(
        name="params", status="pass", summary=f"{shown}; top_features set; {feature_note}", evidence=evidence
    )


def check_metrics(run: Run) -> Check:
    metrics = metrics_of(run)
    if conv.convention_of(run) != "seed" and not any(k in metrics for k in REQUIRED_METRICS):
        return check_metrics_by_convention(run)
    evidence: dict[str, Evidence] = {k: metrics.get(k) for k in REQUIRED_METRICS}
    fails: list[str] = [f"{k} missing" for k in REQUIRED_METRICS if k not in metrics]
    warns: list[str] = []
    for key in ("train_accuracy", "test_accuracy"):
        value = metrics.get(key)
        if value is not None and (not _is_number(value) or not 0 <= value <= 1):
            fails.append(f"{key}={value} outside [0, 1]")
    for key in ("training_samples", "test_samples"):
        value = metrics.get(key)
        if value is not None and (not _is_number(value) or value <= 0 or value != int(value)):
            fails.append(f"{key}={value} is not a positive integer")
    train, test = metrics.get("train_accuracy"), metrics.get("test_accuracy")
    if _is_number(train) and _is_number(test) and 0 <= train <= 1 and 0 <= test <= 1:
        gap = round_number(train - test)
        evidence["train_test_gap"] = gap
        if gap > OVERFIT_GAP:
            warns.append(f"train_accuracy exceeds test_accuracy by {gap} (> {OVERFIT_GAP}): overfitting?")
        elif gap < -OVERFIT_GAP:
            warns.append(f"test_accuracy exceeds train_accuracy by {-gap}: leakage or a swapped split?")
    n_train, n_test = metrics.get("training_samples"), metrics.get("test_samples")
    if _is_number(n_train) and _is_number(n_test) and n_train > 0 and n_test > 0:
        share = round_number(n_test / (n_train + n_test), 3)
        evidence["test_share"] = share
        if not TEST_SHARE[0] <= share <= TEST_SHARE[1]:
            warns.append(f"test share {share} of all samples is outside {TEST_SHARE[0]}-{TEST_SHARE[1]}")
    values = ", ".join(f"{k}={metrics[k]}" for k in REQUIRED_METRICS if k in metrics)
    if fails:
        return Check(
            name="metrics",
            status="fail",
            summary="; ".join(fails + warns) + f" ({values})",
            evidence=evidence,
        )
    if warns:
        return Check(
            name="metrics", status="warn", summary="; ".join(warns) + f" ({values})", evidence=evidence
        )
    extra = f", test share {evidence['test_share']}" if "test_share" in evidence else ""
    return Check(name="metrics", status="pass", summary=f"{values}{extra}", evidence=evidence)


async def check_artifacts(api: MlflowApi, run: Run) -> Check:
    run_id = run.run_id
    root, unlisted = await root_listing(api, run_id)
    if unlisted is not None:
        return Check(
            name="artifacts",
            status="fail",
            summary=f"the run's artifacts could not be listed, so none is verified: {unlisted}",
        )
    if conv.convention_of(run) != "seed" and not any(f.path == conv.SEED_ARTIFACT_FOLDER for f in root):
        return await check_artifacts_by_convention(api, run)
    listing = await list_dir(api, run_id, conv.SEED_ARTIFACT_FOLDER)
    sizes = {f.path: f.file_size for f in listing if not f.is_dir}
    present = [p for p in REQUIRED_ARTIFACTS if p in sizes]
    missing = [p for p in REQUIRED_ARTIFACTS if p not in sizes]
    evidence: dict[str, Evidence] = {
        "required_present": [f"{p} ({sizes[p]} B)" if sizes[p] is not None else p for p in present],
        "missing": missing,
        "training_artifacts": _names(sorted(sizes)),
        "root": _names([f.path + ("/" if f.is_dir else "") for f in root]),
    }
    if missing:
        summary = f"missing {', '.join(missing)}"
        summary += f"; present: {_short(present)}" if present else ""
        summary += (
            f"; training_artifacts/ holds: {_short([clip(p, 200) for p in sorted(sizes)]) or 'nothing'}"
        )
        return Check(name="artifacts", status="fail", summary=summary, evidence=evidence)
    return Check(
        name="artifacts",
        status="pass",
        summary="present: " + ", ".join(evidence["required_present"]),
        evidence=evidence,
    )


def check_feature_count(features: RunFeatures) -> Check:
    logged, actual = features.logged_feature_count, features.feature_count
    evidence: dict[str, Evidence] = {
        "feature_count_param": logged,
        "list_length": actual,
        "source": features.source,
    }
    disagreements = [n for n in features.notes if "differ from features.json" in n]
    if logged is None or not features.features:
        return Check(
            name="feature_count",
            status="skipped",
            summary="nothing to compare: "
            + ("no feature_count param" if logged is None else "no recorded feature list"),
            evidence=evidence,
        )
    if logged != actual:
        return Check(
            name="feature_count",
            status="fail",
            summary=f"feature_count param {logged} != {actual} features in {features.source}",
            evidence=evidence,
        )
    if disagreements:
        evidence["note"] = disagreements[0]
        return Check(
            name="feature_count",
            status="warn",
            summary=f"{logged} matches {features.source}, but {disagreements[0]}",
            evidence=evidence,
        )
    return Check(
        name="feature_count",
        status="pass",
        summary=f"{logged} = {actual} features in {features.source}",
        evidence=evidence,
    )


async def check_registry(api: MlflowApi, run_id: str, model_name: str) -> Check:
    versions, _ = await api.search_model_versions(f"run_id = '{run_id}'", 100, None)
    ours = sorted((v for v in versions if v.name == model_name), key=lambda v: v.version)
    others = [v for v in versions if v.name != model_name]

    def label(v: ModelVersion) -> str:
        return f"{scalar(v.name)} v{v.version} ({v.stage}, {v.status or '?'})"

    evidence: dict[str, Evidence] = {"model": model_name, "versions": [label(v) for v in ours + others]}
    if ours:
        bad = [v for v in ours if v.status not in (None, "READY")]
        status: CheckStatus = "warn" if bad else "pass"
        summary = "registered as " + ", ".join(label(v) for v in ours)
        if bad:
            summary += "; not READY: " + ", ".join(label(v) for v in bad)
        return Check(name="registry", status=status, summary=summary, evidence=evidence)
    if others:
        return Check(
            name="registry",
            status="warn",
            summary=f"not registered in {scalar(model_name)}; registered elsewhere: "
            + ", ".join(label(v) for v in others),
            evidence=evidence,
        )
    return Check(
        name="registry",
        status="fail",
        summary=f"not registered: no version of {scalar(model_name)} was made from run {run_id}",
        evidence=evidence,
    )


def check_expectations(
    run: Run,
    features: RunFeatures,
    expected_model_version: str | None,
    expected_feature_count: int | None,
    expected_algorithm: str | None,
) -> Check:
    params = run.params
    wanted: list[tuple[str, Any, Any]] = []
    if expected_model_version is not None:
        wanted.append(("model_version", expected_model_version, params.get("model_version")))
    if expected_algorithm is not None:
        recorded = conv.algorithm_names(run)
        hit = conv.matches_algorithm(expected_algorithm, recorded)
        actual = hit.value if hit else (" / ".join(n.value for n in recorded) or None)
        wanted.append(("algorithm", expected_algorithm, expected_algorithm if hit else actual))
    if expected_feature_count is not None:
        actual = (
            features.logged_feature_count
            if features.logged_feature_count is not None
            else (features.feature_count or None)
        )
        wanted.append(("feature_count", expected_feature_count, actual))
    if not wanted:
        return Check(
            name="expectations",
            status="skipped",
            summary="none given (expected_model_version, expected_feature_count, expected_algorithm)",
        )
    evidence: dict[str, Evidence] = {}
    misses: list[str] = []
    for key, expected, actual in wanted:
        evidence[f"expected_{key}"] = expected
        evidence[key] = actual
        same = str(actual).strip().lower() == str(expected).strip().lower() if actual is not None else False
        if not same:
            misses.append(
                f"{key} is {scalar(actual) if actual is not None else 'missing'}, expected {scalar(expected)}"
            )
    if misses:
        return Check(name="expectations", status="fail", summary="; ".join(misses), evidence=evidence)
    return Check(
        name="expectations",
        status="pass",
        summary=", ".join(f"{k}={scalar(e)}" for k, e, _ in wanted) + " as expected",
        evidence=evidence,
    )


def run_changes(
    previous: Run,
    current: Run,
    prev_features: RunFeatures,
    features: RunFeatures,
    key_metrics: Sequence[str] = KEY_METRICS,
) -> RunChanges:
    old = {k: v for k, v in previous.params.items() if not FEATURE_PART.match(k)}
    new = {k: v for k, v in current.params.items() if not FEATURE_PART.match(k)}
    changed = {
        k: [clip(old[k], 120) if k in old else None, clip(new[k], 120) if k in new else None]
        for k in sorted(set(old) | set(new))
        if old.get(k) != new.get(k) and k != "top_features"
    }
    old_metrics, new_metrics = metrics_of(previous), metrics_of(current)
    keys = conv.metric_order(sorted(set(old_metrics) | set(new_metrics)), key_metrics)
    metric_changes = {}
    for key in keys[:30]:
        before, after = old_metrics.get(key), new_metrics.get(key)
        delta = round_number(after - before) if _is_number(before) and _is_number(after) else None
        metric_changes[key] = MetricChange(previous=before, current=after, delta=delta)
    before_set, after_set = set(prev_features.features), set(features.features)
    return RunChanges(
        previous_run_id=previous.run_id,
        previous_run_name=previous.run_name,
        previous_start_time=iso_from_ms(previous.start_time),
        param_changes=dict(list(changed.items())[:LIST_LIMIT]),
        features_added=_names([clip(f, 200) for f in features.features if f not in before_set]),
        features_removed=_names([clip(f, 200) for f in prev_features.features if f not in after_set]),
        metric_changes=metric_changes,
    )


def check_comparison(changes: RunChanges | None, reason: str | None) -> Check:
    if changes is None:
        return Check(name="comparison", status="skipped", summary=reason or "no previous run")
    both = {
        k: m for k, m in changes.metric_changes.items() if m.previous is not None and m.current is not None
    }
    key = comparison_metric(
        {k: m.previous for k, m in both.items()},  # type: ignore[misc]
        {k: m.current for k, m in both.items()},  # type: ignore[misc]
    )
    test = both.get(key) if key else None
    evidence: dict[str, Evidence] = {
        "previous_run_id": changes.previous_run_id,
        "previous_run_name": changes.previous_run_name,
        "params_changed": sorted(changes.param_changes),
        "features_added": changes.features_added,
        "features_removed": changes.features_removed,
    }
    parts = [f"vs {scalar(changes.previous_run_name or changes.previous_run_id)}"]
    if test and test.delta is not None:
        evidence[f"{key}_delta"] = test.delta
        parts.append(f"{key} {test.previous} -> {test.current} ({test.delta:+g})")
    n = len(changes.param_changes)
    parts.append(f"{n} param{'' if n == 1 else 's'} changed")
    parts.append(f"features +{_count(changes.features_added)} -{_count(changes.features_removed)}")
    if test and test.delta is not None and test.delta < -ACCURACY_DROP:
        return Check(
            name="comparison",
            status="warn",
            summary=f"{key} dropped: " + "; ".join(parts),
            evidence=evidence,
        )
    return Check(name="comparison", status="pass", summary="; ".join(parts), evidence=evidence)


def _count(names: list[str]) -> int:
    if names and names[-1].startswith("... +"):
        return len(names) - 1 + int(names[-1].split("+")[1].split()[0])
    return len(names)


def _recap(names: list[str], limit: int) -> list[str]:
    """A bounded list (see `names`) bounded again, its '... +N more' counting what both cuts left."""
    listed = names[:-1] if names and names[-1].startswith("... +") else names
    if len(listed) <= limit:
        return names
    return [*listed[:limit], f"... +{_count(names) - limit} more"]


def verdict_of(checks: list[Check]) -> tuple[str, bool]:
    """'PASS: 8/8 checks' (+ warnings, skipped) or 'FAIL: 2 of 9 checks failed: artifacts, metrics'."""
    counted = [c for c in checks if c.status != "skipped"]
    failed = [c.name for c in counted if c.status == "fail"]
    warned = [c.name for c in counted if c.status == "warn"]
    skipped = [c.name for c in checks if c.status == "skipped"]
    if failed:
        line = f"FAIL: {len(failed)} of {len(counted)} checks failed: {', '.join(failed)}"
    else:
        line = f"PASS: {len(counted)}/{len(counted)} checks"
    if warned:
        line += f"; {len(warned)} warning{'s' if len(warned) > 1 else ''}: {', '.join(warned)}"
    if skipped:
        line += f"; skipped: {', '.join(skipped)}"
    return line, not failed


async def validate_run(
    api: MlflowApi,
    run: Run,
    *,
    default_experiment: str,
    default_model: str,
    alignment: Check | list[Check],
    expected_model_version: str | None = None,
    expected_feature_count: int | None = None,
    expected_algorithm: str | None = None,
    compare_with_previous: bool = True,
    features: RunFeatures | None = None,
    key_metrics: Sequence[str] = KEY_METRICS,
) -> ValidationReport:
    """Run every check; `alignment` comes from the caller (it needs Feast, which may be absent)."""
    run_id = run.run_id
    experiment = await api.get_experiment(run.experiment_id)
    features = features or await run_features(api, run)
    checks = [
        check_run(run, experiment, default_experiment),
        check_params(run, features),
        check_metrics(run),
        await check_artifacts(api, run),
        check_feature_count(features),
        await check_registry(api, run_id, default_model),
        *(alignment if isinstance(alignment, list) else [alignment]),
        check_expectations(run, features, expected_model_version, expected_feature_count, expected_algorithm),
    ]
    changes: RunChanges | None = None
    reason = "not asked (compare_with_previous=false)"
    if compare_with_previous:
        previous = await previous_run(api, run)
        reason = "no earlier finished " + (
            "trial in this sweep" if conv.parent_of(run) else "top-level run in this experiment"
        )
        if previous is not None:
            changes = run_changes(previous, run, await run_features(api, previous), features, key_metrics)
    checks.append(check_comparison(changes, reason))
    checks += [Check(**f.model_dump()) for f in await diagnose_run(api, run)]  # curves, when logged
    verdict, passed = verdict_of(checks)
    return ValidationReport(
        verdict=verdict,
        passed=passed,
        run=summarize_run(run, key_metrics),
        experiment=experiment.name if experiment else None,
        checks=checks,
        changes=changes,
    )


def skipped_alignment(reason: str) -> Check:
    return Check(name="alignment", status="skipped", summary=clip(reason, 400))


def check_feast_alignment(features: RunFeatures, registry: Any, run: Run) -> list[Check]:
    """The alignment service's verdict as a check (ALIGNED passes, MISALIGNED fails), then the
    freshness of the views read where the project materializes. Blocking: call from a thread."""
    report = align(features, run, registry)
    fresh = freshness_check(registry, report)
    extra = [Check(name="freshness", status=fresh[0], summary=fresh[1], evidence=fresh[2])] if fresh else []
    return [_alignment_check(report), *extra]


def _alignment_check(report: Any) -> Check:
    evidence: dict[str, Evidence] = {
        "verdict": report.status,
        "feature_source": report.feature_source,
        "by_view": [f"{view}: {n}" for view, n in report.by_view.items()],
        "missing": _names(report.missing),
        "dtype_mismatches": _names(
            [
                f"{d.feature}: run {d.run_dtype} vs Feast {d.view} {d.feast_dtype}"
                for d in report.dtype_mismatches
            ]
        ),
    }
    if report.as_trained is not None:
        evidence["as_trained"] = report.as_trained.verdict
    status: CheckStatus = {"ALIGNED": "pass", "MISALIGNED": "fail"}.get(report.status, "skipped")
    return Check(name="alignment", status=status, summary=clip(report.verdict, 600), evidence=evidence)


def _val(value: Any) -> str:
    return "-" if value is None else scalar(clip(str(value), 200))


def fit_report(report: ValidationReport, budget: int) -> ValidationReport:
    """Keep the answer inside the budget: shed the evidence of the last checks first, then clip the
    change lists."""
    if report.size() <= budget:
        return report
    lean_checks = [
        c.model_copy(update={"evidence": {}, "summary": clip(c.summary, 600)}) for c in report.checks
    ]

    def build(n: int) -> ValidationReport:
        checks = report.checks[:n] + lean_checks[n:]
        return report.model_copy(update={"checks": checks, "truncated": True})

    lean = fit(build, len(report.checks), budget)
    if lean.changes is not None and lean.size() > budget:
        ch = lean.changes
        lean.changes = ch.model_copy(
            update={
                "param_changes": dict(list(ch.param_changes.items())[:10]),
                "features_added": _names(ch.features_added, 10),
                "features_removed": _names(ch.features_removed, 10),
                "metric_changes": dict(list(ch.metric_changes.items())[:10]),
            }
        )
    return lean
