"""The project's change log: every `feast apply` and materialization, newest first. The registry's
version history says exactly which views changed and how; the runs Feast's MLflow integration logs
to `<project>-feast-ops` (when `log_operations` is on) say when each operation ran and what Feast
logged for it (created, updated, deleted objects; materialized intervals)."""

from __future__ import annotations

from datetime import datetime, timezone

from ..backends.feast_registry import FeastProject
from ..backends.mlflow_api import MlflowApi
from ..backends.mlflow_models import Run
from ..core.budget import fit
from ..core.errors import DomainError
from ..core.formatting import clip, iso_from_datetime, iso_from_ms
from ..core.render import scalar
from .feast_history import FeatureViewHistory, Operation, change_text, snapshots, version_changes

APPLY_GAP = 5.0  # seconds: versions recorded this close together came from one `feast apply`
OPS_RUNS = 50


def registry_versions(project: FeastProject) -> list[tuple[datetime, str]]:
    """Every view version of the project, 'view vN: what changed', oldest first."""
    events: list[tuple[datetime, str]] = []
    for name in project.views:
        try:
            snaps = snapshots(project, name)
        except NotImplementedError:
            return []
        for snap, change in zip(snaps, version_changes(snaps), strict=True):
            if snap.created is None:
                continue
            found = change.model_dump(include={"added", "removed", "retyped", "resourced"})
            what = "new" if change.note == "first recorded version" else change_text(found) or change.note
            events.append((snap.created, f"{scalar(name)} {snap.version}" + (f": {what}" if what else "")))
    return sorted(events)


def _group(versions: list[tuple[datetime, str]]) -> list[tuple[datetime, list[str]]]:
    groups: list[tuple[datetime, list[str]]] = []
    for moment, version in versions:
        if groups and (moment - groups[-1][0]).total_seconds() <= APPLY_GAP:
            groups[-1][1].append(version)
        else:
            groups.append((moment, [version]))
    return groups


def _split(tag: str | None) -> list[str]:
    return [t for t in (tag or "").split(",") if t]


def _ops_operation(run: Run) -> Operation:
    tags, kind = run.tags, run.tags.get("feast.operation", "?")
    logged = {
        key.removeprefix("feast."): clip(tags[key], 1000)
        for key in sorted(tags)
        if key.startswith("feast.")
        and key.rsplit("_", 1)[-1] in ("created", "updated", "deleted")
        and key.split(".", 1)[1].split("_")[0] in ("feature", "entities")
    }
    start, end = run.params.get("feast.materialize.start_date"), run.params.get("feast.materialize.end_date")
    return Operation(
        when=iso_from_ms(run.start_time) or "?",
        operation=kind,
        run_id=run.run_id,
        logged={k: v for k, v in logged.items() if v},
        views=_split(tags.get("feast.materialize.feature_views")),
        interval=f"{start or '?'} .. {end}" if end else None,
    )


async def ops_runs(api: MlflowApi, project: FeastProject) -> tuple[list[Run] | None, list[str]]:
    """The newest runs of the project's `<project>-feast-ops` experiment, or None with the reason."""
    integration = project.registry.mlflow
    name = integration.ops_experiment(project.project)
    notes = []
    if not (integration.enabled and integration.log_operations):
        notes.append(
            "Feast's MLflow integration does not log operations for this repo (feature_store.yaml: "
            "mlflow: {enabled: true, log_operations: true}); applies are read from the version history"
        )
    if integration.tracking_uri and integration.tracking_uri.rstrip("/") != api.tracking_uri.rstrip("/"):
        notes.append(
            f"Feast logs operations to MLflow at {clip(integration.tracking_uri, 200)}; this server reads "
            f"{clip(api.tracking_uri, 200)}"
        )
    try:
        experiment = await api.get_experiment_by_name(name)
        if experiment is None:
            return None, [*notes, f"no MLflow experiment '{name}': applies are read from the version history"]
        runs, _ = await api.search_runs(
            [experiment.experiment_id], "", ["attributes.start_time DESC"], OPS_RUNS, None, "ACTIVE_ONLY"
        )
    except DomainError as exc:
        return None, [*notes, f"Feast's ops runs could not be read from MLflow: {clip(str(exc), 300)}"]
    return runs, notes


def change_log(
    project: FeastProject,
    versions: list[tuple[datetime, str]],
    ops_runs: list[Run] | None,
    notes: list[str],
    budget: int,
) -> FeatureViewHistory:
    """Applies and materializations newest first: the ops runs when Feast logged them, each apply
    with the view versions the registry recorded within seconds of it; versions no run explains are
    listed as applies of their own."""
    groups = _group(versions)
    operations: list[tuple[datetime, Operation]] = []
    for run in ops_runs or []:
        op = _ops_operation(run)
        begin = datetime.fromtimestamp((run.start_time or 0) / 1000, tz=timezone.utc)
        finish = datetime.fromtimestamp((run.end_time or run.start_time or 0) / 1000, tz=timezone.utc)
        if op.operation == "apply":
            for moment, group in list(groups):
                if (begin - moment).total_seconds() <= APPLY_GAP and (
                    moment - finish
                ).total_seconds() <= APPLY_GAP:
                    op.versions += group
                    groups.remove((moment, group))
        operations.append((begin, op))
    for moment, group in groups:
        operations.append(
            (moment, Operation(when=iso_from_datetime(moment) or "?", operation="apply", versions=group))
        )
    ordered = [op for _, op in sorted(operations, key=lambda o: o[0], reverse=True)]
    if ops_runs and any(op.logged.get("feature_views_updated") for op in ordered):
        notes = [
            *notes,
            "logged feature_views_updated also names views whose schema did not change (stream views, "
            "views materialized since); `versions` is the registry's exact record",
        ]
    applies = [op.when for op in ordered if op.operation == "apply"]
    base = FeatureViewHistory(
        project=project.project,
        last_applied=applies[0] if applies else iso_from_datetime(project.last_updated),
        ops_experiment=project.registry.mlflow.ops_experiment(project.project)
        if ops_runs is not None
        else None,
        operation_count=len(ordered),
        operations=ordered,
        notes=notes,
    )

    def newest(n: int) -> FeatureViewHistory:
        if n == len(ordered):
            return base
        cut = f"truncated: the newest {n} of {len(ordered)} operations; pass name= for one view's history"
        return base.model_copy(update={"operations": ordered[:n], "notes": [*notes, cut]})

    return fit(newest, len(ordered), budget)
