"""`mlflow-feast-mcp`: the program's entry point, above every floor. It gathers the subcommands of
the server (`serve`, `check`), the demo (`demo`) and the evals (`eval`)."""

from __future__ import annotations

import argparse
import sys

from . import __version__
from .demo import cli as demo_cli
from .demo import example_repo
from .evals import cli as eval_cli
from .server import cli as server_cli

EXAMPLES = """\
commands:
  serve         mlflow-feast-mcp serve --tracking-uri http://127.0.0.1:5000 --feast-repo ./feature_repo
  check         mlflow-feast-mcp check --tracking-uri http://127.0.0.1:5000
  demo          mlflow-feast-mcp demo --once
  example-repo  mlflow-feast-mcp example-repo ./feature_repo
  eval          mlflow-feast-mcp eval --server-url http://127.0.0.1:8000/mcp
run `mlflow-feast-mcp COMMAND --help` for a command's options"""


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="mlflow-feast-mcp",
        description="Read-only MCP server over MLflow and Feast: agents answer from the systems of record.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--version", action="version", version=f"mlflow-feast-mcp {__version__}")
    sub = top.add_subparsers(dest="command", metavar="COMMAND")
    server_cli.add_serve_parser(sub)
    server_cli.add_check_parser(sub)
    demo_cli.add_parser(sub)
    example_repo.add_parser(sub)
    eval_cli.add_parser(sub)
    return top


def main(argv: list[str] | None = None) -> int:
    top = parser()
    args = top.parse_args(argv)
    if args.command is None:
        top.print_help()
        return 2
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
