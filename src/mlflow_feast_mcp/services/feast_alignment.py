"""Alignment with Feast in context (no MCP here; the alignment tool and the validation checklist use
it): which project a run read (its `feast.project` tag unless one is named), the feature service a
run or model version names, the view versions in force when the run started and what changed in
them since, features defined in another project of the registry, and freshness of the views read.

Blocking (registry history reads): call it from a worker thread."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ..backends.feast_registry import FeastProject, FeastRegistry
from ..backends.mlflow_models import Run
from ..core.errors import DomainError
from ..core.formatting import clip, iso_from_ms
from ..core.render import scalar
from .alignment import (
    AlignmentReport,
    AsTrained,
    FeatureMapping,
    ServiceCheck,
    check_alignment,
    short_list,
    split_ref,
)
from .feast_catalog import FeatureLocation, feature_index, service_views, view_features
from .feast_history import Snapshot, change_text, diff, fields_of, in_force, snapshots, source_signature
from .feast_sources import format_ttl
from .feast_views import freshness
from .features import RunFeatures


def choose_project(
    registry: FeastRegistry, explicit: str | None, tags: dict[str, str]
) -> tuple[FeastProject, list[str]]:
    """The project named, else the run's `feast.project` tag when the registry holds it, else the default."""
    tagged = (tags.get("feast.project") or "").strip()
    if explicit and explicit.strip():
        return registry.select(explicit), []
    if tagged and tagged in registry.projects:
        notes = []
        if tagged != registry.default_project:
            notes.append(
                f"checked in project {scalar(tagged)}, the run's feast.project tag (the server's default "
                f"project is {scalar(registry.default_project)})"
            )
        return registry.projects[tagged], notes
    notes = [f"the run's feast.project {scalar(tagged)} is not in this registry"] if tagged else []
    return registry.select(None), notes


def _service(registry: FeastRegistry, project: FeastProject, name: str) -> tuple[Any, str | None]:
    if name in project.services:
        return project.services[name], None
    for other in registry.projects.values():
        if name in other.services:
            return other.services[name], f"defined in project {scalar(other.project)}"
    return None, f"no feature service {scalar(name)} in the registry"


def service_check(
    registry: FeastRegistry, project: FeastProject, features: RunFeatures, version_tags: dict[str, str]
) -> tuple[ServiceCheck | None, list[str]]:
    """The service named by the model version (else the run) and its features today; with the
    service's refs when the run recorded no feature list."""
    tagged_on, name = "model version", (version_tags.get("feast.feature_service") or "").strip()
    if not name:
        tagged_on, name = "run", (features.feast_retrieval.get("feature_service") or "").strip()
    if not name:
        return None, []
    service, note = _service(registry, project, name)
    if service is None:
        return ServiceCheck(name=name, tagged_on=tagged_on, note=note), []
    refs = [f"{v.view}:{f}" for v in service_views(service) for f in v.features]
    trained = features.feature_refs or features.features
    plain = {r.split(":", 1)[-1] for r in trained}
    check = ServiceCheck(
        name=name,
        tagged_on=tagged_on,
        feature_count=len(refs),
        not_trained=[r for r in refs if r not in trained and r.split(":", 1)[-1] not in plain]
        if trained
        else [],
        not_in_service=[
            t
            for t in trained
            if t not in refs and t.split(":", 1)[-1] not in {r.split(":", 1)[-1] for r in refs}
        ],
        note=note,
    )
    return check, refs


def _trained_on_service(features: RunFeatures, service: ServiceCheck, refs: list[str]) -> RunFeatures:
    note = (
        f"no feature list recorded: the features of feature service {scalar(service.name)} as Feast "
        f"defines it today (tagged on the {service.tagged_on})"
    )
    return features.model_copy(
        update={
            "features": [r.split(":", 1)[-1] for r in refs],
            "feature_refs": refs,
            "feature_count": len(refs),
            "source": "feature service",
            "notes": [*features.notes, note],
        }
    )


def _views_read(report: AlignmentReport, views: dict[str, dict[str, str]]) -> list[str]:
    names = [m.view for m in report.features if m.status == "found" and m.view]
    names += [v for m in report.features if m.status == "missing" and (v := split_ref(m.feature, views)[0])]
    return list(dict.fromkeys(names))


def _drift(project: FeastProject, name: str, then: Snapshot, snaps: list[Snapshot]) -> dict[str, Any] | None:
    """What changed in a view since the version the run trained on; None when nothing did."""
    view = project.views.get(name)
    if view is None:
        return {
            "view": name,
            "trained": then.version,
            "current": None,
            "text": "deleted since",
            "removed": [],
        }
    current = snaps[-1].version if snaps else None
    found = diff(then.fields or {}, fields_of(project, view), then.sources, source_signature(view))
    if current == then.version and not any(found.values()):
        return None
    text = change_text(found) or "no field or source change"
    return {
        "view": name,
        "trained": then.version,
        "current": current,
        "text": text,
        "removed": found["removed"],
    }


def _then(
    project: FeastProject, views: list[str], started: datetime
) -> tuple[dict[str, Snapshot], list[dict[str, Any]], list[str]]:
    """The snapshot in force per view, the drift since, and notes (views with no version then)."""
    in_force_then: dict[str, Snapshot] = {}
    drift: list[dict[str, Any]] = []
    notes: list[str] = []
    for name in views:
        snaps = snapshots(project, name)  # NotImplementedError: no history in this registry
        then = in_force(snaps, started)
        if then is None:
            first = snaps[0].created.strftime("%Y-%m-%dT%H:%M:%SZ") if snaps and snaps[0].created else None
            notes.append(
                f"{scalar(name)}: no version existed when the run started"
                + (f" (v0 at {first})" if first else "")
            )
            continue
        if then.fields is None:
            notes.append(f"{scalar(name)} {then.version}: {then.error}")
            continue
        in_force_then[name] = then
        if (change := _drift(project, name, then, snaps)) is not None:
            drift.append(change)
    return in_force_then, drift, notes


def as_trained(
    project: FeastProject, features: RunFeatures, run: Run, report: AlignmentReport
) -> tuple[AsTrained | None, dict[str, str], list[str], list[dict[str, Any]]]:
    """The run's features against the view versions in force at its start; the dtypes then (for the
    features of those views); notes when it cannot be told."""
    if not run.start_time or not report.features:
        return None, {}, [], []
    current = view_features(project)
    started = datetime.fromtimestamp(run.start_time / 1000, tz=timezone.utc)
    try:
        then, drift, notes = _then(project, _views_read(report, current), started)
    except NotImplementedError:
        return (
            None,
            {},
            [f"this registry ({project.registry_kind}) keeps no version history: checked against today only"],
        )
    if not then:
        return None, {}, notes, []
    views = {**current, **{name: snap.fields or {} for name, snap in then.items()}}
    index = {}
    for name, fields in views.items():
        for feature, dtype in fields.items():
            index.setdefault(feature, []).append(_location(project, name, dtype))
    old = check_alignment(features, index, views)
    dtypes = {
        m.feature: m.feast_dtype
        for m in old.features
        if m.status == "found" and m.view in then and m.feast_dtype
    }
    versions = {name: snap.version for name, snap in then.items()}
    shown = ", ".join(f"{scalar(v)} {n}" for v, n in versions.items())
    if old.status == "ALIGNED":
        verdict = f"ALIGNED: all {old.feature_count} features were defined then ({shown})"
    elif old.status == "MISALIGNED":
        verdict = old.verdict.replace("missing from Feast", "missing then") + f" ({shown})"
    else:
        verdict = old.verdict
    summary = AsTrained(
        status=old.status,
        verdict=verdict,
        started=iso_from_ms(run.start_time) or "?",
        versions=versions,
        changes=[f"{scalar(d['view'])} {d['trained']} -> {d['current'] or '-'}: {d['text']}" for d in drift],
    )
    return summary, dtypes, notes, drift


def _note_removed(
    report: AlignmentReport, drift: list[dict[str, Any]], views: dict[str, dict[str, str]]
) -> None:
    """A missing feature the view had when the run trained: say in which version it was removed."""
    removed = {(d["view"], r.split(":", 1)[0]): d for d in drift for r in d["removed"]}
    for m in report.features:
        view, name = split_ref(m.feature, views)
        hit = removed.get((view or "", name)) or next(
            (d for (v, n), d in removed.items() if n == name and not view), None
        )
        if m.status == "missing" and hit is not None:
            m.note = (
                f"{m.note}; " if m.note else ""
            ) + f"removed in {scalar(hit['view'])} {hit['current']} (trained on {hit['trained']})"


def _location(project: FeastProject, view: str, dtype: str) -> FeatureLocation:
    kind = project.kind(project.views[view]) if view in project.views else "feature_view"
    return FeatureLocation(view=view, kind=kind, dtype=dtype)


def _elsewhere(registry: FeastRegistry, project: FeastProject, missing: list[FeatureMapping]) -> list[str]:
    """Missing features another project of the registry defines: noted on each, and summed up."""
    found: dict[str, list[str]] = {}
    for other in registry.projects.values():
        if other.project == project.project:
            continue
        views, index = view_features(other), feature_index(other)
        for m in missing:
            view, name = split_ref(m.feature, views)
            hit = (view in views and name in views[view]) if view else bool(index.get(name))
            if hit:
                where = view or index[name][0].view
                m.note = (
                    f"{m.note}; " if m.note else ""
                ) + f"defined in project {scalar(other.project)} ({scalar(where)})"
                found.setdefault(other.project, []).append(m.feature)
    return [
        f"{len(names)} of the missing features are defined in project {scalar(p)}: "
        f"{short_list([scalar(n) for n in names], 5)} (check with project={p!r})"
        for p, names in found.items()
    ]


def align(
    features: RunFeatures,
    run: Run,
    registry: FeastRegistry,
    *,
    project: str | None = None,
    model_version: str | None = None,
    version_tags: dict[str, str] | None = None,
) -> AlignmentReport:
    """The alignment report of a run (or a model version's run) in full context."""
    chosen, notes = choose_project(registry, project, run.tags)
    service, refs = service_check(registry, chosen, features, version_tags or {})
    if service is not None and refs and not features.features:
        features = _trained_on_service(features, service, refs)
    index, views = feature_index(chosen), view_features(chosen)
    today = check_alignment(features, index, views, model_version)
    trained, dtypes, time_notes, drift = as_trained(chosen, features, run, today)
    report = (
        check_alignment(features, index, views, model_version, trained_dtypes=dtypes) if dtypes else today
    )
    _note_removed(report, drift, views)
    missing = [m for m in report.features if m.status == "missing"]
    notes += _elsewhere(registry, chosen, missing) + time_notes
    if features.feast_retrieval:
        notes.append(
            "Feast retrieval: " + ", ".join(f"{k}={scalar(v)}" for k, v in features.feast_retrieval.items())
        )
    notes += [f"{u.kind} {scalar(u.name)} could not be read: {u.error}" for u in chosen.unreadable]
    return report.model_copy(
        update={
            "project": chosen.project,
            "feature_service": service,
            "as_trained": trained,
            "notes": [*report.notes, *notes],
        }
    )


def freshness_check(
    registry: FeastRegistry, report: AlignmentReport
) -> tuple[str, str, dict[str, Any]] | None:
    """(status, summary, evidence) for the views the run reads that are served online: warn when one
    was never materialized or is stale against its TTL. None when the project never materializes
    (an offline-only repo) or the run read no online view."""
    try:
        project = registry.select(report.project)
    except DomainError:
        return None
    if not any(getattr(v, "materialization_intervals", None) for v in project.views.values()):
        return None
    states: dict[str, list[str]] = {}
    for name in report.by_view:
        view = project.views.get(name)
        status, shown = freshness(view) if view is not None else (None, None)
        if status in ("fresh", "stale", "never"):
            end = (shown or "").split(" .. ")[-1]
            label = (
                scalar(name)
                if status == "never"
                else f"{scalar(name)} (up to {end}, ttl {format_ttl(view.ttl) or '-'})"
            )
            states.setdefault(status, []).append(label)
    if not states:
        return None
    parts = []
    if states.get("never"):
        parts.append("never materialized: " + ", ".join(states["never"]))
    if states.get("stale"):
        parts.append("stale against their TTL: " + ", ".join(states["stale"]))
    if states.get("fresh"):
        parts.append("fresh: " + ", ".join(states["fresh"]))
    status = "warn" if states.get("never") or states.get("stale") else "pass"
    return status, clip("; ".join(parts), 600), dict(states)
