"""A view's version history and the project's change log. Every `feast apply` that changes a view's
schema or source records a new version (a full snapshot); snapshots are decoded without user code.
The project's change log (`feast_changes`) answers in the same model."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, Field

from ..backends.feast_registry import FeastProject, ViewKind
from ..core.answer import Answer
from ..core.budget import fit
from ..core.formatting import clip, iso_from_datetime
from ..core.render import render, scalar
from .feast_sources import attr, lean_render
from .feast_views import find_view


class VersionChange(BaseModel):
    version: str
    version_number: int
    created: str | None = None
    kind: str | None = None
    field_count: int | None = None
    added: list[str] = []
    removed: list[str] = []
    retyped: list[str] = Field([], description="'name: OldType -> NewType'")
    resourced: list[str] = Field([], description="source changes, 'old -> new'")
    note: str | None = None


class Operation(BaseModel):
    when: str
    operation: str = Field(description="apply, materialize, materialize_incremental")
    run_id: str | None = None
    versions: list[str] = []
    logged: dict[str, str] = {}
    views: list[str] = []
    interval: str | None = None


def change_text(found: dict[str, list[str]]) -> str:
    """'retyped order_count: Int64 -> Int32; removed legacy_score: Float64' ('' when nothing)."""
    labels = {"retyped": "retyped", "removed": "removed", "added": "added", "resourced": "re-sourced"}
    return "; ".join(f"{label} {', '.join(found[k])}" for k, label in labels.items() if found.get(k))


def _operation_line(op: Operation) -> str:
    line = f"{op.when} {op.operation}"
    if op.run_id:
        line += f" (run {op.run_id})"
    if op.views:
        line += f": {', '.join(scalar(v) for v in op.views)}"
    if op.interval:
        line += f" {scalar(op.interval)}"
    if op.versions:
        line += "; versions: " + " | ".join(op.versions)  # composed from escaped names
    if op.logged:
        line += "; logged: " + "; ".join(f"{k} {scalar(v)}" for k, v in op.logged.items())
    return line


class FeatureViewHistory(Answer):
    """A view's versions (with `name`), or the project's change log (without)."""

    name: str | None = None
    kind: ViewKind | None = None
    project: str | None = None
    current_version: str | None = None
    version_count: int = 0
    versions: list[VersionChange] = []
    last_applied: str | None = None
    ops_experiment: str | None = None
    operation_count: int = 0
    operations: list[Operation] = []
    notes: list[str] = []

    def render_text(self) -> str:
        """A view's versions as a table; the change log as one line per operation."""
        data = self.structured()
        if self.name is not None:
            return lean_render(data, {"versions": list(VersionChange.model_fields)})
        head = {k: v for k, v in data.items() if k not in ("operations", "notes")}
        lines = [render(head), *(_operation_line(op) for op in self.operations)]
        return "\n".join([*lines, *(f"note: {n}" for n in self.notes)])


@dataclass
class Snapshot:
    """One version of a view as the registry recorded it."""

    view: str
    number: int
    created: datetime | None
    kind: str | None
    fields: dict[str, str] | None = None
    sources: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def version(self) -> str:
        return f"v{self.number}"


def utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def source_signature(view: Any) -> list[str]:
    """What feeds a view, comparable across versions: 'name (Type) location' per source."""
    out = []
    for role in ("batch_source", "stream_source"):
        source = attr(view, role)
        if source is None:
            continue
        where = attr(source, "path") or attr(source, "table") or attr(source, "query")
        where = where or attr(source, "kafka_options.topic") or attr(source, "kinesis_options.stream_name")
        label = f"{scalar(attr(source, 'name') or '?')} ({type(source).__name__})"
        out.append(label + (f" {scalar(clip(str(where), 200))}" if where else ""))
    out += sorted(f"view {scalar(name)}" for name in attr(view, "source_feature_view_projections") or {})
    return out


def fields_of(project: FeastProject, view: Any) -> dict[str, str]:
    return {f.name: str(f.dtype) for f in project.features_of(view)}


def snapshots(project: FeastProject, name: str) -> list[Snapshot]:
    """Every recorded version of a view, oldest first; NotImplementedError when none are kept."""
    out = []
    for record in sorted(project.version_records(name), key=lambda r: r["version_number"]):
        snap = Snapshot(
            view=name,
            number=int(record["version_number"]),
            created=utc(record.get("created_timestamp")),
            kind=record.get("feature_view_type"),
        )
        try:
            view = project.version_snapshot(name, snap.number)
            snap.fields, snap.sources = fields_of(project, view), source_signature(view)
        except NotImplementedError:
            snap.error = "this registry cannot return the schema of past versions"
        except Exception as exc:  # a snapshot Feast cannot decode: say so, keep the rest
            snap.error = f"schema of this version could not be read: {clip(str(exc), 200)}"
        out.append(snap)
    return out


def diff(
    before: dict[str, str], after: dict[str, str], old_sources: list[str], new_sources: list[str]
) -> dict[str, list[str]]:
    """Fields added, removed, retyped and sources changed from one version to another (stored names
    through `scalar`, so the lines can be shown as they are)."""
    resourced = []
    if old_sources != new_sources:
        gone = [s for s in old_sources if s not in new_sources]
        new = [s for s in new_sources if s not in old_sources]
        resourced = [f"{', '.join(gone) or '-'} -> {', '.join(new) or '-'}"]
    return {
        "added": [f"{scalar(n)}: {scalar(t)}" for n, t in after.items() if n not in before],
        "removed": [f"{scalar(n)}: {scalar(t)}" for n, t in before.items() if n not in after],
        "retyped": [
            f"{scalar(n)}: {scalar(before[n])} -> {scalar(t)}"
            for n, t in after.items()
            if n in before and before[n] != t
        ],
        "resourced": resourced,
    }


def version_changes(snaps: list[Snapshot]) -> list[VersionChange]:
    changes: list[VersionChange] = []
    previous: Snapshot | None = None
    for snap in snaps:
        change = VersionChange(
            version=snap.version,
            version_number=snap.number,
            created=iso_from_datetime(snap.created),
            kind=snap.kind,
            field_count=len(snap.fields) if snap.fields is not None else None,
            note=snap.error,
        )
        if snap.fields is not None:
            if previous is None or previous.fields is None:
                change.note = "first recorded version" if previous is None else change.note
            else:
                found = diff(previous.fields, snap.fields, previous.sources, snap.sources)
                change = change.model_copy(update=found)
                if not any(found.values()):
                    change.note = "same fields and sources; other schema details changed"
            previous = snap
        changes.append(change)
    return changes


def feature_view_history(project: FeastProject, name: str, budget: int) -> FeatureViewHistory:
    view = find_view(project, name)
    kind = project.kind(view)
    current = attr(view, "current_version_number")
    try:
        changes = version_changes(snapshots(project, view.name))
    except NotImplementedError:
        return FeatureViewHistory(
            name=view.name,
            kind=kind,
            project=project.project,
            version_count=0,
            versions=[],
            notes=[
                f"this registry ({project.registry_kind}) keeps no feature view version history; "
                "use Git history of the repo's definitions instead"
            ],
        )
    notes = []
    if not changes:
        notes.append(
            "no version history recorded for this view (applied before versioning, or the registry "
            "does not keep it)"
        )
    history = FeatureViewHistory(
        name=view.name,
        kind=kind,
        project=project.project,
        current_version=f"v{current}" if current is not None else (changes[-1].version if changes else None),
        version_count=len(changes),
        versions=changes,
        notes=notes,
    )

    def newest(n: int) -> FeatureViewHistory:
        if n == len(changes):
            return history
        cut = f"truncated: showing the newest {n} of {len(changes)} versions"
        return history.model_copy(update={"versions": changes[len(changes) - n :], "notes": [*notes, cut]})

    return fit(newest, len(changes), budget)


def in_force(snaps: list[Snapshot], moment: datetime) -> Snapshot | None:
    """The newest version recorded at or before `moment` (registry times may be cut to seconds)."""
    moment = moment.replace(microsecond=0)
    chosen = None
    for snap in snaps:
        created = snap.created.replace(microsecond=0) if snap.created else None
        if created is not None and created <= moment:
            chosen = snap
    return chosen
