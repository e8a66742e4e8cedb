"""`mlflow-feast-mcp serve | check | demo | eval`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .config import Settings


def _add_backend_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tracking-uri", help="MLflow tracking URI (env MLFLOW_TRACKING_URI, default http://localhost:5000)"
    )
    parser.add_argument(
        "--feast-repo", type=Path, help="Feast repo path (env FEAST_REPO_PATH, default ./feature_repo)"
    )
    parser.add_argument("--default-experiment", help="env MLFLOW_FEAST_MCP_DEFAULT_EXPERIMENT")
    parser.add_argument("--default-model", help="env MLFLOW_FEAST_MCP_DEFAULT_MODEL")


def settings_from(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        tracking_uri=args.tracking_uri,
        feast_repo=args.feast_repo,
        default_experiment=args.default_experiment,
        default_model=args.default_model,
    )


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="mlflow-feast-mcp",
        description="Read-only MCP server over MLflow and Feast: agents answer from the systems of record.",
    )
    sub = top.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve MCP over stdio (default) or streamable HTTP at /mcp")
    serve.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    serve.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="HTTP port (default 8000)")
    serve.add_argument(
        "--stateless", action="store_true", help="HTTP without sessions (for replicas behind a balancer)"
    )
    _add_backend_flags(serve)
    check = sub.add_parser(
        "check", help="show what the server would see in MLflow and Feast; non-zero exit on problems"
    )
    _add_backend_flags(check)
    from ..demo import cli as demo_cli
    from ..evals import cli as eval_cli

    demo_cli.add_parser(sub)
    eval_cli.add_parser(sub)
    return top


def serve(args: argparse.Namespace) -> int:
    from .app import build_server

    settings = settings_from(args)
    mcp = build_server(settings)
    if args.transport == "stdio":
        import anyio

        anyio.run(mcp.run_stdio_async)
        return 0
    import uvicorn

    from .http import http_app

    app = http_app(
        mcp, args.host, args.port, settings.http_token, settings.allowed_hosts, stateless=args.stateless
    )
    print(f"mlflow-feast-mcp: streamable HTTP on http://{args.host}:{args.port}/mcp", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", lifespan="on")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "check":
        import anyio

        from .check import run_check

        return anyio.run(run_check, settings_from(args))
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
