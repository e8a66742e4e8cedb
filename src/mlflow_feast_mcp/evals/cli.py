"""`mlflow-feast-mcp eval`: run the eval cases in scripted, replay or llm mode and print the metrics
table (progress while it runs), optionally JSON and the transcript."""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any

from .cases import CASES_DIR, load_cases, runnable, select


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "eval",
        help="score agent answers against MLflow and Feast (scripted, replay or llm mode)",
        description=(
            "Runs the eval cases (questions over the demo world, true answers computed from MLflow and "
            "Feast directly) through the MCP server and prints accuracy, tool calls, response tokens, "
            "tool-definition tokens, errors and latency. Modes: scripted (each case's tool plan, no LLM), "
            "replay (re-grade a recorded transcript against fresh truth), llm (an agent loop with the "
            "Anthropic Messages API or an OpenAI-compatible endpoint)."
        ),
    )
    p.add_argument(
        "--mode",
        choices=["scripted", "replay", "llm"],
        default="scripted",
        help="scripted (default): each case's tool plan, no LLM; replay: re-grade --transcripts against "
        "fresh truth; llm: an agent loop over --llm-api",
    )
    p.add_argument(
        "--cases",
        type=Path,
        action="append",
        help=f"case YAML file or folder (repeatable; default {CASES_DIR})",
    )
    p.add_argument("--only", action="append", help="run only these case ids or categories (repeatable)")
    target = p.add_mutually_exclusive_group()
    target.add_argument(
        "--server-url", help="a running server's streamable HTTP URL, e.g. http://127.0.0.1:8000/mcp"
    )
    target.add_argument("--stdio", action="store_true", help="spawn `mlflow-feast-mcp serve` over stdio")
    p.add_argument(
        "--tracking-uri", help="MLflow tracking URI (env MLFLOW_TRACKING_URI, default http://localhost:5000)"
    )
    p.add_argument(
        "--feast-repo", type=Path, help="Feast repo path (env FEAST_REPO_PATH, default ./feature_repo)"
    )
    p.add_argument("--default-experiment", help="env MLFLOW_FEAST_MCP_DEFAULT_EXPERIMENT")
    p.add_argument("--default-model", help="env MLFLOW_FEAST_MCP_DEFAULT_MODEL")
    p.add_argument(
        "--predictions-uri",
        help="SQLAlchemy URL of the predictions database, for the serving cases "
        "(env MLFLOW_FEAST_MCP_PREDICTIONS_URI; the demo's: sqlite:///<demo folder>/predictions.db)",
    )
    p.add_argument("--json", type=Path, dest="json_out", help="write the metrics (and results) as JSON here")
    p.add_argument(
        "--transcripts",
        type=Path,
        help="scripted/llm: write the transcript here; replay: the transcript to re-grade (required)",
    )
    p.add_argument("--k", type=int, default=1, help="llm: trials per case (pass^k)")
    p.add_argument("--llm-api", choices=["anthropic", "openai"], help="llm: API shape (default anthropic)")
    p.add_argument("--llm-base-url", help="llm: endpoint base URL (Anthropic or OpenAI-compatible)")
    p.add_argument("--llm-model", help="llm: model name")
    p.add_argument(
        "--min-accuracy",
        type=float,
        help="exit non-zero below this accuracy (default 1.0 for scripted and replay, 0 for llm)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(handler=run)
    return p


def _settings(args: argparse.Namespace):
    from ..core.settings import Settings

    return Settings.from_env(
        tracking_uri=args.tracking_uri,
        feast_repo=args.feast_repo,
        default_experiment=args.default_experiment,
        default_model=args.default_model,
        predictions_uri=args.predictions_uri,
    )


def _target(args: argparse.Namespace, settings: Any) -> Any:
    if args.server_url:
        return args.server_url
    if args.stdio:
        from mcp import StdioServerParameters

        command = [sys.executable, "-m", "mlflow_feast_mcp", "serve", "--transport", "stdio"]
        command += ["--tracking-uri", settings.tracking_uri, "--feast-repo", str(settings.feast_repo)]
        command += ["--default-experiment", settings.default_experiment]
        command += ["--default-model", settings.default_model]
        env = dict(os.environ)
        if settings.predictions_uri:
            env["MLFLOW_FEAST_MCP_PREDICTIONS_URI"] = settings.predictions_uri
        env["MLFLOW_FEAST_MCP_PREDICTIONS_TABLE"] = settings.predictions_table
        return StdioServerParameters(command=command[0], args=command[1:], env=env)
    from ..server.app import build_server

    return build_server(settings)


def run(args: argparse.Namespace) -> int:
    import anyio

    from .metrics import progress_line, render_table, summarize
    from .modes import replay, run_scripted
    from .oracle import Oracle
    from .records import Transcript

    warnings.filterwarnings("ignore")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    settings = _settings(args)
    oracle = Oracle(
        settings.tracking_uri,
        settings.feast_repo,
        settings.default_experiment,
        settings.default_model,
        settings.predictions_uri,
        settings.predictions_table,
    )
    cases, unmet = runnable(select(load_cases(args.cases), args.only), oracle.holds)
    if unmet and not (args.quiet and cases):
        print(
            f"eval: {len(unmet)} cases need a predictions table (--predictions-uri): not run",
            file=sys.stderr,
            flush=True,
        )
    if not cases:
        print("mlflow-feast-mcp eval: no case to run", file=sys.stderr)
        return 2

    def progress(n: int, total: int, result: Any) -> None:
        if not args.quiet:
            print(progress_line(n, total, result), file=sys.stderr, flush=True)

    if not args.quiet:
        print(
            f"eval: {len(cases)} cases, mode {args.mode}; truth from MLflow {settings.tracking_uri} "
            f"and Feast {settings.feast_repo}",
            file=sys.stderr,
            flush=True,
        )
    if args.mode == "replay":
        if not args.transcripts:
            print("mlflow-feast-mcp eval: --mode replay needs --transcripts PATH", file=sys.stderr)
            return 2
        recorded = Transcript.model_validate_json(args.transcripts.read_text())
        transcript = replay(recorded, cases, oracle, progress)
    elif args.mode == "llm":
        from .llm import LLMConfig, run_llm

        config = LLMConfig.from_env(api=args.llm_api, base_url=args.llm_base_url, model=args.llm_model)
        if config is None:
            print(
                "mlflow-feast-mcp eval: --mode llm needs ANTHROPIC_API_KEY (or OPENAI_API_KEY with "
                "--llm-api openai) or --llm-base-url",
                file=sys.stderr,
            )
            return 2
        transcript = anyio.run(
            run_llm, _target(args, settings), cases, oracle, config, max(1, args.k), progress
        )
    else:
        transcript = anyio.run(run_scripted, _target(args, settings), cases, oracle, progress)

    summary = summarize(transcript)
    print(render_table(summary), flush=True)
    if args.transcripts and args.mode != "replay":
        args.transcripts.write_text(transcript.model_dump_json(indent=1))
    if args.json_out:
        payload = {
            "summary": summary,
            "results": [r.model_dump(exclude={"calls"}) for r in transcript.results],
        }
        args.json_out.write_text(json.dumps(payload, indent=1, default=str))
    floor = args.min_accuracy if args.min_accuracy is not None else (0.0 if args.mode == "llm" else 1.0)
    return 0 if summary["accuracy"] >= floor else 1
