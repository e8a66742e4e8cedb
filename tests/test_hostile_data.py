"""Hostile stored data, logged through the ordinary MlflowClient (tests/support/hostile_world.py): run
names, params, tags, descriptions, feature names and artifact text that try to break out into the
server's own lines, values nested thousands deep, runs 20,000 features or 10,000 params wide, a 50 MB
file. Every tool on every hostile run or model answers within the budget (text and structured), with
no line the server did not write, no raw control or invisible character, never a bare error, and
structured content that says no more than its text (at most twice its size, give or take JSON's keys)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from support.calls import call
from support.hostile_world import HostileWorld, foreign_lines, hostile_calls, invisibles, raw_controls

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
BUDGET = 20_000
# our own fence: '<<<artifact content <nonce>' ... 'artifact content <nonce>>>'; what lies between is data
FENCED = re.compile(r"^<<<artifact content (\w+)$.*?^artifact content \1>>>$", re.M | re.S)


@pytest.fixture(scope="module")
async def hostile_client(hostile_world: HostileWorld, feast_world: Any) -> AsyncIterator[Any]:
    """The server on the hostile store and an applied Feast repo (alignment and validation run in full)."""
    from mcp import Client

    from mlflow_feast_mcp.core.settings import Settings
    from mlflow_feast_mcp.server.app import build_server

    settings = Settings(
        tracking_uri=hostile_world.uri,
        feast_repo=feast_world.file_repo,
        default_experiment=hostile_world.experiment_names["text"],
        response_budget=BUDGET,
    )
    async with Client(build_server(settings), read_timeout_seconds=300) as client:
        yield client


def outside_fences(text: str) -> str:
    return FENCED.sub("[fenced]", text)


async def test_every_tool_on_hostile_data_answers_within_the_budget_in_the_servers_own_lines(
    hostile_client: Any, hostile_world: HostileWorld
) -> None:
    problems: list[str] = []
    for tool, label, arguments in hostile_calls(hostile_world):
        answer = await call(hostile_client, tool, **arguments)
        where = f"{tool}({label})"
        structured = json.dumps(answer.data, ensure_ascii=False) if answer.data else ""
        if answer.is_error and answer.text.rstrip(": ").endswith(f"Error executing tool {tool}"):
            problems.append(f"{where}: bare error")
        if len(answer.text) > BUDGET or len(structured) > BUDGET:
            problems.append(f"{where}: {len(answer.text)} text / {len(structured)} structured chars")
        elif not answer.is_error and len(structured) > 2 * len(answer.text) + 2_000:
            # a stored value the text clips (or tells once) is whole (or twice) in the structured content
            problems.append(f"{where}: structured {len(structured)} chars for a text of {len(answer.text)}")
        bare = outside_fences(answer.text)
        if lines := foreign_lines(bare):
            problems.append(f"{where}: {len(lines)} foreign line(s), e.g. {lines[0][:80]!r}")
        if raw_controls(answer.text) or invisibles(answer.text):
            problems.append(f"{where}: raw control or invisible characters in the text")
    assert not problems, "\n".join(problems[:40])


async def test_a_deleted_run_is_flagged_and_fails_validation(
    hostile_client: Any, hostile_world: HostileWorld
) -> None:
    run_id = hostile_world.runs["deleted"]
    detail = await call(hostile_client, "mlflow_get_run", run_id=run_id)
    assert not detail.is_error and detail.data["deleted"] is True, detail.text
    report = await call(hostile_client, "validate_training_run", run_id=run_id)
    run_check = next(c for c in report.data["checks"] if c["name"] == "run")
    assert run_check["status"] == "fail" and "trash" in run_check["summary"], run_check
    assert report.text.startswith("FAIL"), report.text[:200]


async def test_an_experiment_whose_name_ends_in_a_newline_is_found_by_that_name(
    hostile_client: Any, hostile_world: HostileWorld
) -> None:
    name = hostile_world.experiment_names["named"]
    assert name.endswith("\n")  # the lookup once stripped it, then found nothing
    described = await call(hostile_client, "mlflow_describe_experiment", experiment=name)
    assert not described.is_error, described.text
    assert described.data["experiment_id"] == hostile_world.experiments["named"]


async def test_a_wide_run_cut_to_the_budget_still_names_its_most_important_features(
    hostile_client: Any, hostile_world: HostileWorld, tmp_path: Any
) -> None:
    """3,000 features whose importances grow down the list: the answer shows the first features that
    fit, yet its top five are the run's own (the last five), out of 3,000."""
    from mlflow.tracking import MlflowClient

    names = [f"signal_{i:04d}_" + "x" * 20 for i in range(3000)]
    mc = MlflowClient(tracking_uri=hostile_world.uri)
    run_id = mc.create_run(hostile_world.experiments["wide"], run_name="importance_at_the_end").info.run_id
    folder = tmp_path / "training_artifacts"
    folder.mkdir()
    (folder / "features.json").write_text(json.dumps(names))
    (folder / "feature_importances.json").write_text(json.dumps({n: i / 3000 for i, n in enumerate(names)}))
    mc.log_artifacts(run_id, str(folder), "training_artifacts")
    mc.set_terminated(run_id, "FINISHED")
    answer = await call(hostile_client, "mlflow_get_run_features", run_id=run_id)
    assert not answer.is_error, answer.text
    assert len(answer.data["features"]) < 3000  # cut to the budget
    assert list(answer.data["importances"]) == names[::-1][:5]
    assert answer.data["importance_count"] == 3000 and "top 5 of 3000" in answer.text


async def test_a_run_adding_sixty_features_names_twenty_and_counts_the_rest_in_both_views(
    hostile_client: Any, hostile_world: HostileWorld, tmp_path: Any
) -> None:
    from mlflow.tracking import MlflowClient

    mc = MlflowClient(tracking_uri=hostile_world.uri)
    experiment = mc.create_experiment("sixty_features_added")
    for name, features in (
        ("before", [f"f{i:02d}" for i in range(10)]),
        ("after", [f"f{i:02d}" for i in range(70)]),
    ):
        run_id = mc.create_run(experiment, run_name=name).info.run_id
        (tmp_path / name).mkdir()
        (tmp_path / name / "features.json").write_text(json.dumps(features))
        mc.log_artifacts(run_id, str(tmp_path / name), "training_artifacts")
        mc.set_terminated(run_id, "FINISHED")
    answer = await call(hostile_client, "validate_training_run", run_id=run_id)
    assert not answer.is_error, answer.text
    added = answer.data["changes"]["features_added"]
    assert added == [f"f{i:02d}" for i in range(10, 30)] + ["... +40 more"]
    assert "features added: " + ", ".join(added[:-1]) + " (+40 more); removed: none" in answer.text
    detailed = await call(hostile_client, "validate_training_run", run_id=run_id, response_format="detailed")
    assert detailed.data["changes"]["features_added"][-1] == "... +20 more"  # 40 names, then the count
    assert "(+20 more)" in detailed.text
