"""Finding things in MLflow by what the agent calls them: experiments by name or id, runs by id,
name or 'latest', with close matches when nothing fits."""

from __future__ import annotations

import re

from ..backends.mlflow_api import MlflowApi, MlflowMissing
from ..backends.mlflow_models import Experiment, Run
from ..core.errors import InvalidArgument, NotFound, not_found, quote

RUN_ID = re.compile(r"^[0-9a-f]{32}$")


async def resolve_experiment(api: MlflowApi, ref: str) -> Experiment:
    """An experiment by exact name (as given, then without surrounding blanks: a stored name may end in
    a newline), else by id, else a NotFound naming the closest experiments."""
    given, ref = ref, ref.strip()
    if not ref:
        raise InvalidArgument(
            "experiment is empty. Pass an experiment name, e.g. 'nba_game_winner_prediction'."
        )
    if len(ref) > 500:
        raise InvalidArgument(f"experiment {quote(ref)} is longer than any experiment name or id.")
    found = await api.get_experiment_by_name(given) if given != ref and len(given) <= 500 else None
    found = found or await api.get_experiment_by_name(ref)
    if found is None and ref.isdigit() and len(ref) <= 19:  # ids are int64: longer digits are a name
        found = await api.get_experiment(ref)
    if found is not None:
        return found
    page, _ = await api.search_experiments(None, 1000, None, "ALL")
    names = [e.name for e in page]
    lowered = [e for e in page if e.name.lower() == ref.lower()]
    if len(lowered) == 1:
        return lowered[0]
    raise not_found("experiment", ref, names, "List them with mlflow_list_experiments.")


async def resolve_run(api: MlflowApi, ref: str, default_experiment: str) -> Run:
    """A run by id; or 'latest' (the newest top-level run) / a run name, in the default experiment."""
    ref = ref.strip()
    if RUN_ID.match(ref):
        try:
            return await api.get_run(ref)
        except MlflowMissing:
            raise NotFound(
                f"No run with id {quote(ref)}. Find run ids with mlflow_search_runs "
                f"(experiment '{default_experiment}' by default)."
            ) from None
    if not ref:
        raise InvalidArgument("run_id is empty. Pass a run id (32 hex characters) or 'latest'.")
    if len(ref) > 256 or any(ord(ch) < 32 for ch in ref):
        raise InvalidArgument(
            f"{quote(ref)} is not a run id (32 hex characters), 'latest', or a run name. "
            "Find runs with mlflow_search_runs."
        )
    experiment = await resolve_experiment(api, default_experiment)
    if ref.lower() == "latest":  # the newest top-level run: a sweep's last trial is not "the latest run"
        runs, _ = await api.search_runs(
            [experiment.experiment_id],
            "tags.mlflow.parentRunId IS NULL",
            ["attributes.start_time DESC"],
            1,
            None,
            "ACTIVE_ONLY",
        )
        if not runs:
            raise NotFound(f"Experiment '{experiment.name}' has no runs yet.")
        return runs[0]
    escaped = ref.replace("'", "\\'")
    runs, _ = await api.search_runs(
        [experiment.experiment_id],
        f"attributes.run_name = '{escaped}'",
        ["attributes.start_time DESC"],
        2,
        None,
        "ACTIVE_ONLY",
    )
    if not runs:
        recent, _ = await api.search_runs(
            [experiment.experiment_id], "", ["attributes.start_time DESC"], 200, None, "ACTIVE_ONLY"
        )
        names = [r.run_name or "" for r in recent]
        raise not_found(
            "run",
            ref,
            names,
            f"A run is named by its 32-hex id, 'latest', or its run name in '{experiment.name}'. "
            "Find runs with mlflow_search_runs.",
        )
    return runs[0]


def name_contains_filter(name_contains: str | None) -> str | None:
    """MLflow's filter for 'name contains X', case-insensitive, with X's quotes and wildcards escaped."""
    if not name_contains:
        return None
    return "name ILIKE '%" + name_contains.replace("'", "\\'").replace("%", "\\%") + "%'"
