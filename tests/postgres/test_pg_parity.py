"""Parity on PostgreSQL: the same history logged into `mlflow server` on SQLite and on PostgreSQL
(artifacts served by each tracking server), and the same Feast repo applied into a file registry and
into a SQL registry in PostgreSQL, answer every tool alike. Run ids, which differ between the two
stores, are mapped by role; timestamps, which differ by when each world was logged, are masked.
The SQLite side is the session `world`: this directory sorts before the other test modules, so it is
compared before any test adds to that store."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from support.calls import Answer, call
from support.feast_world import FeastWorld
from support.mlflow_world import World

pytestmark = [pytest.mark.anyio, pytest.mark.postgres, pytest.mark.slow]

DURATION = re.compile(r"(duration_s\W+)[\d.]+")
REGISTRY = re.compile(r'(registry: )"[^"\n]*"')  # where each registry lives (a file, a SQL URL)
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?")


class Normaliser:
    """Replaces each world's run ids by `<run:role>` and masks timestamps and store locations."""

    def __init__(self, world: World, *locations: str) -> None:
        self.swaps = [(rid, f"<run:{role}>") for role, rid in world.runs.items()]
        self.swaps += [(rid[:8], f"<run:{role}>") for role, rid in world.runs.items()]  # short ids
        self.swaps += [(loc, "<store>") for loc in locations if loc]

    def text(self, value: str) -> str:
        for old, new in self.swaps:
            value = value.replace(old, new)
        value = REGISTRY.sub(r"\1<registry>", value)
        return DURATION.sub(r"\1<secs>", ISO.sub("<time>", value))

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            masked = {"duration_s": "<secs>", "registry": "<registry>"}  # a time, a location
            return {
                self.text(k): masked[k] if k in masked and not isinstance(v, dict | list) else self(v)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self(v) for v in value]
        return value


def mlflow_calls(world: World) -> list[tuple[str, dict]]:
    r = world.runs
    return [
        ("mlflow_list_experiments", {}),
        ("mlflow_describe_experiment", {}),
        ("mlflow_list_experiments", {"name_contains": "nba"}),
        ("mlflow_search_runs", {}),
        (
            "mlflow_search_runs",
            {"filter": "metrics.test_accuracy > 0.6", "order_by": ["metrics.test_accuracy DESC"]},
        ),
        ("mlflow_search_runs", {"filter": "params.algorithm = 'logistic_regression'"}),
        ("mlflow_search_runs", {"status": "FAILED"}),
        ("mlflow_search_runs", {"order_by": ["metrics.test_accuracy ASC"], "metric_keys": ["test_accuracy"]}),
        ("mlflow_search_runs", {"experiment": "churn_model_tuning"}),
        ("mlflow_search_runs", {"filter": "metrics.nope > 1 AND"}),
        *[("mlflow_get_run", {"run_id": rid}) for rid in r.values()],
        ("mlflow_get_run", {"run_id": "latest", "response_format": "detailed"}),
        ("mlflow_get_run", {"run_id": "f" * 32}),
        *[("mlflow_get_run_features", {"run_id": rid}) for rid in r.values()],
        ("mlflow_compare_runs", {"run_ids": [r["seed"], r["parts"], r["feast_tags"]]}),
        ("mlflow_compare_runs", {"run_ids": [r["dataset"], r["bare"]]}),
        (
            "mlflow_get_metric_history",
            {"run_ids": [r["parts"]], "metric_keys": ["val_loss"], "max_points": 20},
        ),
        ("mlflow_get_metric_history", {"run_ids": [r["seed"]], "metric_keys": ["test_accuracy"]}),
        ("mlflow_get_metric_history", {"run_ids": [r["seed"]], "metric_keys": ["nope"]}),
        ("mlflow_list_artifacts", {"run_id": r["seed"]}),
        ("mlflow_list_artifacts", {"run_id": r["seed"], "path": "training_artifacts"}),
        ("mlflow_list_artifacts", {"run_id": r["seed"], "depth": 3}),
        ("mlflow_read_artifact", {"run_id": r["seed"], "path": "training_artifacts/features.json"}),
        ("mlflow_read_artifact", {"run_id": r["seed"], "path": "training_artifacts/run_info.txt"}),
        (
            "mlflow_read_artifact",
            {"run_id": r["seed"], "path": "logs/big.txt", "offset": 100},
        ),
        ("mlflow_read_artifact", {"run_id": r["seed"], "path": "calibrator.pkl"}),
        ("mlflow_read_artifact", {"run_id": r["seed"], "path": "../../etc/passwd"}),
        ("mlflow_list_registered_models", {}),
        ("mlflow_get_registered_model", {}),
        ("mlflow_get_registered_model", {"stage": "Production"}),
        *[
            ("mlflow_get_model_version", {"version_ref": ref})
            for ref in ("Production", "Staging", "champion", "@challenger", "Legacy", "latest", "1", "2", "9")
        ],
        ("mlflow_get_model_version", {"version_ref": "@nobody"}),
        ("mlflow_search_logged_models", {}),
    ]


def feast_calls() -> list[tuple[str, dict]]:
    views = ("game_features", "game_momentum_features", "game_matchup_odv")
    return [
        ("feast_list_projects", {}),
        ("feast_list_feature_views", {}),
        ("feast_list_feature_views", {"entity": "game"}),
        *[("feast_describe_feature_view", {"name": v}) for v in views],
        ("feast_describe_feature_view", {"name": "game_features", "field_contains": "elo"}),
        ("feast_describe_feature_view", {"name": "game_feature"}),
        ("feast_list_entities", {}),
        ("feast_list_data_sources", {}),
        ("feast_list_feature_services", {}),
        *[("feast_get_feature_view_history", {"name": v}) for v in views],
        ("feast_get_online_features", {"feature_service": "game_winner_v1", "entity_rows": [{"game_id": 1}]}),
    ]


def cross_calls(world: World) -> list[tuple[str, dict]]:
    r = world.runs
    return [
        *[
            ("check_feature_alignment", {"run_or_model": r[role]})
            for role in ("seed", "parts", "feast_tags", "bare")
        ],
        ("check_feature_alignment", {"run_or_model": "game_winner_model/Production"}),
        ("validate_training_run", {}),
        *[("validate_training_run", {"run_id": r[role]}) for role in ("seed", "parts", "dataset")],
        ("validate_training_run", {"check_predictions": True}),
        ("predictions_spot_check", {}),
        ("predictions_spot_check", {"version_ref": "champion"}),
    ]


async def paged(client: Any, tool: str, key: str, **args: Any) -> list[Answer]:
    """Every page of a listing, following next_page_token."""
    pages = [await call(client, tool, **args)]
    while pages[-1].data.get("next_page_token"):
        pages.append(await call(client, tool, **args, page_token=pages[-1].data["next_page_token"]))
        assert len(pages) < 100, f"{tool} pages without end"
    return pages


def differences(
    pairs: list[tuple[str, dict, Answer, Answer]], left: Normaliser, right: Normaliser
) -> list[str]:
    diffs = []
    for tool, args, a, b in pairs:
        ka, kb = (a.is_error, left(a.data), left(a.text)), (b.is_error, right(b.data), right(b.text))
        if ka != kb:
            diffs.append(f"{tool}({left(args)}):\n  sqlite: {ka!s:.1500}\n  postgres: {kb!s:.1500}")
    return diffs


async def test_postgres_answers_every_tool_like_sqlite(
    world: World, pg_world: World, feast_world: FeastWorld, pg_feast_repo: Path, tmp_path: Path
) -> None:
    from mcp import Client

    from mlflow_feast_mcp.core.settings import Settings
    from mlflow_feast_mcp.server.app import build_server
    from test_read_only import predictions_table

    # each world's predictions (one batch of its Production version), in a SQLite file of its own
    left_table = predictions_table(tmp_path / "left.db", world)
    right_table = predictions_table(tmp_path / "right.db", pg_world)
    on_sqlite = Settings(tracking_uri=world.uri, feast_repo=feast_world.file_repo, predictions_uri=left_table)
    on_postgres = Settings(tracking_uri=pg_world.uri, feast_repo=pg_feast_repo, predictions_uri=right_table)
    left = Normaliser(world, left_table, world.uri, str(feast_world.file_repo))
    right = Normaliser(pg_world, right_table, pg_world.uri, str(pg_feast_repo))
    pairs: list[tuple[str, dict, Answer, Answer]] = []
    async with Client(build_server(on_sqlite)) as a, Client(build_server(on_postgres)) as b:
        tools = {t.name for t in (await a.list_tools()).tools}
        calls = [
            *zip(mlflow_calls(world), mlflow_calls(pg_world), strict=True),
            *((c, c) for c in feast_calls()),
            *zip(cross_calls(world), cross_calls(pg_world), strict=True),
        ]
        for (tool, args_a), (_, args_b) in calls:
            pairs.append((tool, args_a, await call(a, tool, **args_a), await call(b, tool, **args_b)))
        for tool, args in (
            ("mlflow_search_runs", {"page_size": 2}),
            ("mlflow_list_experiments", {"page_size": 1}),
            ("mlflow_list_registered_models", {"page_size": 1}),
        ):
            pages_a, pages_b = await paged(a, tool, "", **args), await paged(b, tool, "", **args)
            assert len(pages_a) == len(pages_b) > 1, f"{tool}({args}): {len(pages_a)} vs {len(pages_b)} pages"
            pairs += [
                (tool, {**args, "page": i}, pa, pb)
                for i, (pa, pb) in enumerate(zip(pages_a, pages_b, strict=False))
            ]
    assert {tool for tool, *_ in pairs} == tools, "parity must cover every tool"
    diffs = differences(pairs, left, right)
    report = Path(os.environ.get("PG_PARITY_REPORT", "/dev/null"))
    report.write_text("\n".join(diffs))
    assert not diffs, f"{len(diffs)} of {len(pairs)} answers differ:\n" + "\n".join(diffs)
    assert sum(not a.is_error for *_, a, _ in pairs) > 60, "most calls should succeed"


async def test_mlflow_client_backend_on_postgresql_uri_answers_like_rest(
    pg_world: World, pg_cluster, tmp_path
):
    """`--tracking-uri postgresql://...` (MlflowClient in a thread, straight on the database) answers the
    run and registry tools like the REST backend over the tracking server on the same database. Tools that
    read artifacts are left out: served artifacts (`mlflow-artifacts:/`) are read through a tracking
    server only, and the MlflowClient backend fails those calls (see docs/deploy.md)."""
    from mcp import Client

    from mlflow_feast_mcp.core.settings import Settings
    from mlflow_feast_mcp.server.app import build_server

    rest = Settings(tracking_uri=pg_world.uri, feast_repo=tmp_path)
    direct = Settings(tracking_uri=pg_cluster.url("mlflow"), feast_repo=tmp_path)
    assert rest.uses_rest and not direct.uses_rest
    r = pg_world.runs
    calls = [
        ("mlflow_list_experiments", {}),
        ("mlflow_search_runs", {"page_size": 4}),
        (
            "mlflow_search_runs",
            {"filter": "metrics.test_accuracy > 0.6", "order_by": ["metrics.test_accuracy DESC"]},
        ),
        ("mlflow_search_runs", {"status": "FAILED"}),
        (
            "mlflow_get_metric_history",
            {"run_ids": [r["parts"]], "metric_keys": ["val_loss"], "max_points": 20},
        ),
        ("mlflow_list_registered_models", {}),
        ("mlflow_get_registered_model", {}),
        ("mlflow_get_run", {"run_id": "f" * 32}),
    ]  # not mlflow_get_model_version: it reads the version's run features from artifacts
    async with Client(build_server(rest)) as over_rest, Client(build_server(direct)) as over_db:
        for tool, args in calls:
            a, b = await call(over_rest, tool, **args), await call(over_db, tool, **args)
            assert (a.is_error, a.data, a.text) == (b.is_error, b.data, b.text), f"{tool}({args}) differs"
