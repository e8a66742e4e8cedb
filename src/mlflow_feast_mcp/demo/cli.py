"""The `demo` subcommand's arguments. Kept apart from the runner so that building the CLI parser
(on every `serve`) does not import the seeder's numpy/pandas."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

DEFAULT_DIR = Path(".mlflow-feast-mcp-demo")


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "demo",
        help="seed a real NBA training history, start MLflow + the MCP server, answer the seed's questions",
        description=(
            "Seeds a local MLflow store and Feast repo with a real NBA game-winner training history "
            "(first run only), starts `mlflow server` (UI), `feast ui` and the MCP server on streamable HTTP, asks "
            "the seed's questions through an MCP client and prints the answers and how to connect."
        ),
    )
    p.add_argument("--dir", type=Path, default=DEFAULT_DIR, help=f"demo folder (default {DEFAULT_DIR})")
    p.add_argument("--reset", action="store_true", help="delete the demo folder's store and seed again")
    p.add_argument("--small", action="store_true", help="fewer estimators: seeds faster (tests, CI)")
    p.add_argument("--mlflow-port", type=int, default=5000, help="MLflow UI/API port (default 5000)")
    p.add_argument("--mcp-port", type=int, default=8000, help="MCP streamable HTTP port (default 8000)")
    p.add_argument("--feast-ui-port", type=int, default=8080, help="Feast UI port (default 8080)")
    p.add_argument("--no-feast-ui", dest="feast_ui", action="store_false", help="do not start `feast ui`")
    p.add_argument("--once", action="store_true", help="exit after printing the answers (tests, CI)")
    p.add_argument(
        "--predict",
        action="store_true",
        help="run generate_game_predictions again on a reused seed (appends a batch to ml_dev.predictions)",
    )
    p.set_defaults(handler=_run)
    return p


def _run(args: argparse.Namespace) -> int:
    from .runner import run

    return run(args)
