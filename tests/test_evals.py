"""The eval harness: case format, extractor and grader, then every mode against the small demo seed:
scripted over in-memory and HTTP transports scores 100%, replay re-grades a transcript (a wrong
answer fails), and the llm loop runs against a local fake Anthropic/OpenAI endpoint."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from mlflow_feast_mcp.demo import seeder
from mlflow_feast_mcp.evals.cases import CASES_DIR, NOT_FOUND, Case, load_cases, render, select, variables_in
from mlflow_feast_mcp.evals.extract import ExtractError, extract
from mlflow_feast_mcp.evals.grader import grade, parse_final_answer
from mlflow_feast_mcp.evals.metrics import render_table, summarize
from mlflow_feast_mcp.evals.records import Transcript, error_answer

ALL_TOOLS = {
    "mlflow_list_experiments", "mlflow_search_runs", "mlflow_get_run", "mlflow_get_run_features",
    "mlflow_compare_runs", "mlflow_describe_experiment", "mlflow_get_metric_history", "mlflow_list_artifacts", "mlflow_read_artifact",
    "mlflow_list_registered_models", "mlflow_get_registered_model", "mlflow_get_model_version",
    "feast_list_projects", "feast_list_feature_views", "feast_describe_feature_view", "feast_list_entities",
    "feast_list_data_sources", "feast_list_feature_services", "feast_get_feature_view_history",
    "check_feature_alignment", "validate_training_run", "mlflow_search_logged_models",
    "predictions_spot_check", "feast_get_online_features",
}  # fmt: skip


# ---------------------------------------------------------------------------------------------
# The case set, the extractor and the grader (no servers)


def test_cases_load_cover_every_tool_and_category():
    cases = load_cases()
    assert len(cases) >= 40
    assert {t for c in cases for t in c.tools} == ALL_TOOLS
    by_category = {c.category for c in cases}
    assert by_category >= {"runs", "metrics", "registry", "artifacts", "feast", "alignment", "validation"}
    assert sum(c.category == "unanswerable" for c in cases) >= 5
    assert all(c.compare == "not_found" for c in cases if c.category == "unanswerable")
    assert sum(len(c.plan) >= 2 for c in cases) >= 5  # multi-step
    assert any(variables_in(c) for c in cases)  # templated
    assert select(cases, ["feast"]) and all(c.category == "feast" for c in select(cases, ["feast"]))


def test_case_validation_rejects_bad_cases(tmp_path: Path):
    base = {"id": "x", "category": "runs", "question": "which?", "oracle": "latest_run", "answer": "$.a"}
    with pytest.raises(ValueError, match="unknown oracle"):
        Case.model_validate({**base, "oracle": "nope", "plan": [{"tool": "t"}]})
    with pytest.raises(ValueError, match="not_found needs expect_error"):
        Case.model_validate({**base, "compare": "not_found", "plan": [{"tool": "t"}]})
    with pytest.raises(ValueError, match="over its budget"):
        Case.model_validate({**base, "budget": {"tool_calls": 1}, "plan": [{"tool": "t"}, {"tool": "u"}]})
    dup = tmp_path / "dup.yaml"
    dup.write_text(json.dumps({"cases": [{**base, "plan": [{"tool": "t"}]}] * 2}))
    with pytest.raises(ValueError, match="duplicate case id"):
        load_cases(dup)


def test_render_keeps_types_and_fails_on_unknown_variables():
    assert render("{v}", {"v": 4}) == 4
    assert render({"a": ["{v}", "run {v}"]}, {"v": 4}) == {"a": [4, "run 4"]}
    with pytest.raises(KeyError, match="not defined"):
        render("{nope}", {})


def test_extractor_paths():
    data = {
        "runs": [{"name": "a", "m": {"acc": 0.5}, "tags": ["x"]}, {"name": "b", "m": {"acc": 0.7}}],
        "content": '{"k": 3}',
        "conflicts": ["alias 'champion' points at v5"],
    }
    assert extract(data, "$.runs[1].name") == "b"
    assert extract(data, "$.runs[*].name") == ["a", "b"]
    assert extract(data, "$.runs[?name=b].m.acc|first") == 0.7
    assert extract(data, "$.runs[?name!=b].name") == ["a"]
    assert extract(data, "$.runs|len") == 2
    assert extract(data, "$.content|json.k") == 3
    assert extract(data, "$.conflicts[?@~=CHAMPION]|bool") is True
    assert extract(data, "$.runs[?name=zzz]|bool") is False
    with pytest.raises(ExtractError):
        extract(data, "$.nope")
    with pytest.raises(ExtractError):
        extract(data, "runs")


@pytest.mark.parametrize(
    ("expected", "got", "compare", "passed"),
    [
        ("gbm_v2.1", " GBM_v2.1 ", "exact", True),
        ("gbm_v2.1", "gbm_v2.2", "exact", False),
        (["a", "b"], ["a", "b"], "exact", True),
        (["a", "b"], ["b", "a"], "exact", False),
        (["a", "b"], ["b", "a"], "set", True),
        (["a", "b"], "b, a", "set", True),
        (["a", "b"], ["a"], "set", False),
        (0.6535, "0.65352", "number", True),
        (0.6535, 0.66, "number", False),
        (4, "version 4", "exact", True),
        (True, "yes", "exact", True),
        (False, True, "exact", False),
        ("Archived", "game_winner_model v3 (Archived)", "contains", True),
        ("Staging", "game_winner_model v3 (Archived)", "contains", False),
        (NOT_FOUND, NOT_FOUND, "not_found", True),
        (NOT_FOUND, "4", "not_found", False),
        (4, NOT_FOUND, "number", False),
        (4, None, "number", False),
    ],
)
def test_grader(expected, got, compare, passed):
    tolerance = 0.0001 if compare == "number" else 1e-6
    assert grade(expected, got, compare, tolerance).passed is passed


def test_final_answer_parsing_and_error_answers():
    assert parse_final_answer('It is v4.\nANSWER: ["a", "b"]') == ["a", "b"]
    assert parse_final_answer("no such model.\nANSWER: NOT_FOUND") == NOT_FOUND
    assert parse_final_answer("ANSWER: gbm_v2.1") == "gbm_v2.1"
    assert error_answer("Error executing tool x: No run 'zz'. Find runs with ...") == NOT_FOUND
    assert error_answer("Error executing tool x: MLflow did not answer in 10 s").startswith("ERROR")


# ---------------------------------------------------------------------------------------------
# Against the small demo seed


@pytest.fixture(scope="module")
def world(demo_seed) -> tuple[str, Path, str]:
    """The session's small demo seed (tests/support/demo_world.py), with its predictions database."""
    from mlflow_feast_mcp.demo.predictions import predictions_uri

    url, report, workdir = demo_seed
    return url, Path(report.feast_repo), predictions_uri(workdir)


@pytest.fixture(scope="module")
def oracle(world):
    from mlflow_feast_mcp.evals.oracle import Oracle

    url, repo, predictions = world
    return Oracle(url, repo, predictions_uri=predictions)


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return load_cases()


def _server(world):
    from mlflow_feast_mcp.core.settings import Settings
    from mlflow_feast_mcp.server.app import build_server

    url, repo, predictions = world
    return build_server(Settings(tracking_uri=url, feast_repo=repo, predictions_uri=predictions))


@pytest.fixture(scope="module")
def scripted_memory(world, oracle, cases) -> Transcript:
    import anyio

    from mlflow_feast_mcp.evals.modes import run_scripted

    return anyio.run(run_scripted, _server(world), cases, oracle)


@pytest.mark.slow
def test_oracle_sees_the_seeded_world(oracle):
    v = oracle.variables()
    assert v["production_version"] == 4 and v["champion_version"] == 5 and v["staging_version"] == 6
    assert v["failed_run"] == "hgb_v2.1_rc" and v["misaligned_run"] == "rf_travel_v1.2"
    assert oracle.answer("missing_features", run="rf_travel_v1.2") == ["home_travel_distance"]
    assert oracle.answer("model_version", ref="Production", model="no_such_model") == NOT_FOUND
    assert oracle.answer("field_dtype", view="game_features", field="home_back_to_back") == "Bool"


@pytest.mark.slow
def test_scripted_in_memory_scores_100(scripted_memory: Transcript, cases):
    summary = summarize(scripted_memory)
    assert summary["failures"] == [], render_table(summary)
    assert summary["accuracy"] == 1.0 and summary["cases"] == len(cases)
    assert summary["errors"] == 0 and summary["harness_errors"] == 0 and not summary["over_budget"]
    assert summary["expected_errors"] == sum(c.expect_error for c in cases)
    assert set(summary["per_tool"]) == ALL_TOOLS
    assert summary["tool_definition_tokens"] > 1000
    assert summary["response_tokens_per_case"]["total"] > 0 and summary["latency_ms"]["call_p95"] > 0
    table = render_table(summary)
    assert "100.0%" in table and "mlflow_get_model_version" in table


@pytest.mark.slow
def test_scripted_over_http_subset_scores_100(world, oracle, cases):
    import anyio

    from mlflow_feast_mcp.demo.runner import McpHttpThread
    from mlflow_feast_mcp.evals.modes import run_scripted

    url, repo, predictions = world
    thread = McpHttpThread(url, repo, seeder.free_port(), predictions)
    thread.start()
    try:
        subset = [next(c for c in cases if c.category == cat) for cat in sorted({c.category for c in cases})]
        transcript = anyio.run(run_scripted, thread.url, subset, oracle)
    finally:
        thread.stop()
    summary = summarize(transcript)
    assert transcript.transport == "http"
    assert summary["accuracy"] == 1.0, render_table(summary)


@pytest.mark.slow
def test_replay_regrades_and_catches_a_wrong_answer(scripted_memory: Transcript, cases, oracle, tmp_path):
    from mlflow_feast_mcp.evals.modes import replay

    recorded = Transcript.model_validate_json(scripted_memory.model_dump_json())
    wrong = next(r for r in recorded.results if r.case_id == "production_version")
    wrong.answer = 6  # the Staging version: a plausible, wrong answer
    agent = next(r for r in recorded.results if r.case_id == "failed_runs")
    agent.mode, agent.answer = "llm", None
    agent.final_text = 'The only failed run is hgb_v2.1_rc.\nANSWER: ["hgb_v2.1_rc"]'
    path = tmp_path / "transcript.json"
    path.write_text(recorded.model_dump_json())

    regraded = replay(Transcript.model_validate_json(path.read_text()), cases, oracle)
    by_id = {r.case_id: r for r in regraded.results}
    assert not by_id["production_version"].passed
    assert "expected 4" in by_id["production_version"].reason
    assert by_id["failed_runs"].passed and by_id["failed_runs"].answer == ["hgb_v2.1_rc"]
    summary = summarize(regraded)
    assert summary["failed"] == 1 and summary["passed"] == len(cases) - 1
    assert summary["mode"] == "replay"


# ---------------------------------------------------------------------------------------------
# llm mode against a fake endpoint on 127.0.0.1


class FakeLLM(BaseHTTPRequestHandler):
    """Speaks the Anthropic Messages API (/v1/messages) and OpenAI chat completions
    (/chat/completions): first a scripted tool call, then an answer read from the tool result."""

    requests: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        FakeLLM.requests.append({"path": self.path, "body": body, "headers": dict(self.headers)})
        messages = body["messages"]
        question = next(m["content"] for m in messages if m["role"] == "user")
        if self.path == "/v1/messages":
            reply = self._anthropic(messages, question)
        else:
            reply = self._openai(messages, question)
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    @staticmethod
    def _plan(question: str) -> tuple[str, dict[str, Any]]:
        if "player_points_model" in question:
            return "mlflow_get_model_version", {
                "model_name": "player_points_model",
                "version_ref": "Production",
            }
        return "mlflow_search_runs", {"page_size": 1}

    @staticmethod
    def _answer(tool_text: str) -> str:
        if tool_text.startswith("Error") or " No " in tool_text[:200]:
            return "That model is not registered.\nANSWER: NOT_FOUND"
        row = tool_text.splitlines()[3]  # header, 'runs (1):', columns, the first run
        return f"The latest run is {row.split('|')[0].strip()}.\nANSWER: {row.split('|')[0].strip()}"

    def _anthropic(self, messages: list[dict[str, Any]], question: str) -> dict[str, Any]:
        usage = {"input_tokens": 100, "output_tokens": 10}
        if len(messages) == 1:
            tool, args = self._plan(question)
            block = {"type": "tool_use", "id": "toolu_1", "name": tool, "input": args}
            return {"role": "assistant", "content": [block], "stop_reason": "tool_use", "usage": usage}
        result = messages[-1]["content"][0]
        assert result["type"] == "tool_result" and result["tool_use_id"] == "toolu_1"
        text = self._answer(result["content"])
        return {
            "role": "assistant",
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "usage": usage,
        }

    def _openai(self, messages: list[dict[str, Any]], question: str) -> dict[str, Any]:
        usage = {"prompt_tokens": 100, "completion_tokens": 10}
        if messages[-1]["role"] == "user":
            tool, args = self._plan(question)
            call = {
                "id": "call_1",
                "type": "function",
                "function": {"name": tool, "arguments": json.dumps(args)},
            }
            message = {"role": "assistant", "content": None, "tool_calls": [call]}
        else:
            assert messages[-1]["role"] == "tool" and messages[-1]["tool_call_id"] == "call_1"
            message = {"role": "assistant", "content": self._answer(messages[-1]["content"])}
        return {"choices": [{"message": message, "finish_reason": "stop"}], "usage": usage}


@pytest.fixture
def fake_llm() -> Iterator[str]:
    FakeLLM.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeLLM)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
@pytest.mark.parametrize("api", ["anthropic", "openai"])
def test_llm_loop_against_fake_endpoint(world, oracle, cases, fake_llm, api):
    import anyio

    from mlflow_feast_mcp.evals.llm import LLMConfig, run_llm

    picked = select(cases, ["latest_run_name", "nf_unknown_model"])
    config = LLMConfig(api=api, base_url=fake_llm, api_key="test-key", model="fake-model")
    transcript = anyio.run(run_llm, _server(world), picked, oracle, config, 2)
    summary = summarize(transcript)
    assert summary["accuracy"] == 1.0, render_table(summary)
    assert summary["pass_hat_k"] == {"k": 2, "value": 1.0}
    assert summary["tool_calls"] == 4 and summary["expected_errors"] == 2
    assert summary["llm_tokens"]["input_total"] == 800
    first = FakeLLM.requests[0]
    tools = first["body"]["tools"]
    assert len(tools) == len(ALL_TOOLS)
    if api == "anthropic":
        assert first["headers"]["x-api-key"] == "test-key" and "input_schema" in tools[0]
        assert "ANSWER:" in first["body"]["system"]
    else:
        assert first["headers"]["authorization"] == "Bearer test-key" and tools[0]["type"] == "function"
    assert {r.answer for r in transcript.results} == {oracle.variables()["latest_run"], NOT_FOUND}


@pytest.mark.slow
def test_cli_eval_writes_json_and_transcript(world, tmp_path, capsys, monkeypatch):
    from mlflow_feast_mcp.cli import main

    url, repo, predictions = world
    out, transcript = tmp_path / "eval.json", tmp_path / "transcript.json"
    argv = ["eval", "--tracking-uri", url, "--feast-repo", str(repo), "--only", "registry", "--quiet"]
    assert main([*argv, "--json", str(out), "--transcripts", str(transcript)]) == 0
    summary = json.loads(out.read_text())["summary"]
    assert summary["accuracy"] == 1.0 and summary["by_category"].keys() == {"registry"}
    assert "tool-definition tokens" in capsys.readouterr().out
    assert main([*argv, "--mode", "replay", "--transcripts", str(transcript)]) == 0
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert main([*argv, "--mode", "llm"]) == 2  # no key, no base URL: a clear refusal

    serving = ["eval", "--tracking-uri", url, "--feast-repo", str(repo), "--only", "serving"]
    assert main(serving) == 2  # every serving case needs the predictions table: none to run, said so
    assert "need a predictions table (--predictions-uri): not run" in capsys.readouterr().err
    assert main([*serving, "--predictions-uri", predictions, "--quiet", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["summary"]["by_category"].keys() == {"serving"}


# ---------------------------------------------------------------------------------------------
# Against the MLflow 3 world (tests/support/mlflow3_world.py): autolog, LoggedModels, sweeps


@pytest.mark.slow
def test_scripted_mlflow3_cases_score_100(mlflow3_world, tmp_path: Path):
    """The cases in cases/mlflow3/, answered over an in-memory transport and graded against truth
    that Mlflow3Oracle reads with MlflowClient (stage as MLflow serves it, signatures from MLmodel)."""
    import anyio

    from mlflow_feast_mcp.core.settings import Settings
    from mlflow_feast_mcp.evals.modes import run_scripted
    from mlflow_feast_mcp.evals.oracle_mlflow3 import Mlflow3Oracle
    from mlflow_feast_mcp.server.app import build_server
    from support.mlflow3_world import MODEL

    cases = load_cases(CASES_DIR / "mlflow3")
    oracle = Mlflow3Oracle(
        mlflow3_world.uri, tmp_path, experiment=mlflow3_world.experiment_name, model_name=MODEL
    )
    variables = oracle.variables()
    assert variables["staged_model"] == "churn_gbm" and variables["stage"] == "Production"
    assert variables["sweep_run"] == "gbm_sweep" and variables["autolog_run"] == "rf_autolog"
    settings = Settings(
        tracking_uri=mlflow3_world.uri,
        feast_repo=tmp_path / "no_feast_repo_here",
        default_experiment=mlflow3_world.experiment_name,
        default_model=MODEL,
    )
    transcript = anyio.run(run_scripted, build_server(settings), cases, oracle)
    summary = summarize(transcript)
    assert summary["failures"] == [], render_table(summary)
    assert summary["accuracy"] == 1.0 and summary["cases"] == len(cases) >= 20
    assert summary["errors"] == 0 and summary["harness_errors"] == 0 and not summary["over_budget"]
    assert "mlflow_search_logged_models" in summary["per_tool"]
