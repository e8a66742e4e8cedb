"""`mlflow-feast-mcp check`: what the server would see, one line per fact, a clear line per problem."""

from __future__ import annotations

import anyio

from ..core.errors import DomainError
from ..core.formatting import counted
from ..core.settings import Settings
from .backends import Backends


async def run_check(settings: Settings) -> int:
    backends = Backends(settings)
    problems = 0

    def say(ok: bool, text: str) -> None:
        nonlocal problems
        problems += 0 if ok else 1
        print(("ok    " if ok else "FAIL  ") + text)

    print(f"MLflow tracking URI: {settings.tracking_uri}")
    try:
        api = await backends.mlflow()
        experiments, token = await api.search_experiments(None, 1000, None, "ACTIVE_ONLY")
        say(True, f"MLflow reachable: {counted(len(experiments), 'experiment', bool(token))}")
        experiment = await api.get_experiment_by_name(settings.default_experiment)
        if experiment is None:
            say(
                False,
                f"default experiment '{settings.default_experiment}' not found (set --default-experiment)",
            )
        else:
            count, page = 0, None
            while True:
                runs, page = await api.search_runs(
                    [experiment.experiment_id], "", [], 1000, page, "ACTIVE_ONLY"
                )
                count += len(runs)
                if not page or count >= 100_000:
                    break
            say(True, f"default experiment '{settings.default_experiment}': {counted(count, 'run')}")
        models, token = await api.search_registered_models(None, 1000, None)
        names = {m.name for m in models}
        say(True, f"registered models: {len(models)}{'+' if token else ''}")
        if settings.default_model not in names:
            say(False, f"default model '{settings.default_model}' is not registered (set --default-model)")
    except DomainError as exc:
        say(False, str(exc))
    print(f"Feast repo: {settings.feast_repo}")
    try:
        feast = await backends.feast()
        say(True, "Feast registry loaded: " + feast.summary())
    except DomainError as exc:
        say(False, str(exc))
    except ImportError as exc:
        say(False, f"Feast support missing: {exc}")
    problems += await _check_predictions(backends, settings)
    await backends.aclose()
    print("all good" if not problems else counted(problems, "problem"))
    return 1 if problems else 0


async def _check_predictions(backends: Backends, settings: Settings) -> int:
    """Whether the predictions table answers (not configured is no problem: one tool says how)."""
    table = settings.predictions_table
    if not settings.predictions_uri:
        print(f"Predictions table {table}: not configured (set MLFLOW_FEAST_MCP_PREDICTIONS_URI to check it)")
        return 0
    try:
        store = await backends.predictions()
        print(f"Predictions table: {store.label}")
        rows, batches, newest = await anyio.to_thread.run_sync(store.reachable)
    except DomainError as exc:
        print(f"FAIL  predictions table {table}: {exc}")
        return 1
    print(
        f"ok    predictions table reachable: {counted(rows, 'row')} in {counted(batches, 'batch', plural='batches')}, newest {newest or '-'}"
    )
    return 0
