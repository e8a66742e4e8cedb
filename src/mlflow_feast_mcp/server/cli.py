"""The server's own subcommands: `serve` (stdio or streamable HTTP) and `check`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..core.settings import Settings

TOOLSET_NAMES = ("mlflow", "registry", "feast", "checks", "predictions")  # the keys of tools.TOOLSETS


def add_backend_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tracking-uri", help="MLflow tracking URI (env MLFLOW_TRACKING_URI, default http://localhost:5000)"
    )
    parser.add_argument(
        "--feast-repo", type=Path, help="Feast repo path (env FEAST_REPO_PATH, default ./feature_repo)"
    )
    parser.add_argument(
        "--default-experiment",
        help="experiment used when a call names none (env MLFLOW_FEAST_MCP_DEFAULT_EXPERIMENT)",
    )
    parser.add_argument(
        "--default-model",
        help="registered model used when a call names none (env MLFLOW_FEAST_MCP_DEFAULT_MODEL)",
    )


def settings_from(args: argparse.Namespace) -> Settings:
    toolsets = getattr(args, "toolsets", None)
    return Settings.from_env(
        forward_credentials=True if getattr(args, "forward_mlflow_credentials", False) else None,
        tracking_uri=args.tracking_uri,
        feast_repo=args.feast_repo,
        default_experiment=args.default_experiment,
        default_model=args.default_model,
        toolsets=[t.strip() for t in toolsets.split(",") if t.strip()] if toolsets else None,
    )


def add_serve_parser(sub: Any) -> None:
    serve = sub.add_parser(
        "serve",
        help="serve MCP over stdio (default) or streamable HTTP at /mcp",
        description="Serve the read-only MLflow and Feast tools to an MCP client: over stdio for a client "
        "that spawns the server (Claude Desktop, Claude Code, Cursor, VS Code), or over streamable HTTP "
        "at http://HOST:PORT/mcp for clients that connect to it.",
    )
    serve.add_argument(
        "--transport",
        choices=["stdio", "http"],
        default="stdio",
        help="stdio (default): the client spawns this process; http: listen on --host/--port at /mcp",
    )
    serve.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="HTTP port (default 8000)")
    serve.add_argument(
        "--stateless", action="store_true", help="HTTP without sessions (for replicas behind a balancer)"
    )
    serve.add_argument(
        "--forward-mlflow-credentials",
        action="store_true",
        help="HTTP: call MLflow with each client's own credentials, sent in the X-MLflow-Authorization "
        "header, so MLflow's permissions apply per user (env MLFLOW_FEAST_MCP_FORWARD_CREDENTIALS=true)",
    )
    serve.add_argument(
        "--toolsets",
        help=f"comma-separated parts of the catalogue to load: {', '.join(TOOLSET_NAMES)} "
        "(env MLFLOW_FEAST_MCP_TOOLSETS; default all)",
    )
    add_backend_flags(serve)
    serve.set_defaults(handler=serve_command)


def add_check_parser(sub: Any) -> None:
    check = sub.add_parser(
        "check",
        help="show what the server would see in MLflow and Feast; non-zero exit on problems",
        description="Connect to MLflow and Feast as `serve` would and print what is there, one line per "
        "fact, and a clear line per problem; exits 1 when something is wrong.",
    )
    add_backend_flags(check)
    check.set_defaults(handler=check_command)


def serve_command(args: argparse.Namespace) -> int:
    from .app import build_server
    from .backends import Backends

    settings = settings_from(args)
    if settings.forward_credentials and (args.transport != "http" or not settings.uses_rest):
        print(
            "mlflow-feast-mcp: forwarding MLflow credentials needs --transport http and an http(s) "
            "tracking URI (stdio has no per-request headers).",
            file=sys.stderr,
        )
        return 2
    try:
        mcp = build_server(settings, Backends(settings, owns_process=True))
    except ValueError as exc:  # e.g. an unknown toolset
        print(f"mlflow-feast-mcp: {exc}", file=sys.stderr)
        return 2
    if args.transport == "stdio":
        import anyio

        anyio.run(mcp.run_stdio_async)
        return 0
    import uvicorn

    from .http import http_app, uvicorn_config

    app = http_app(
        mcp, args.host, args.port, settings.http_token, settings.allowed_hosts, stateless=args.stateless
    )
    print(f"mlflow-feast-mcp: streamable HTTP on http://{args.host}:{args.port}/mcp", file=sys.stderr)
    uvicorn.Server(uvicorn_config(app, args.host, args.port, settings.http_request_timeout)).run()
    return 0


def check_command(args: argparse.Namespace) -> int:
    import anyio

    from .check import run_check

    return anyio.run(run_check, settings_from(args))
