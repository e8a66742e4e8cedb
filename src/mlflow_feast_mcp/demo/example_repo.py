"""`mlflow-feast-mcp example-repo [DIR]`: a working copy of the bundled NBA Feast repo outside
site-packages: copied to DIR (default ./feature_repo, the server's default FEAST_REPO_PATH), its
synthetic data generated into DIR/data and `feast apply`-ed there. Kept apart from the seeder so
that building the CLI parser imports nothing heavy."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

DEFAULT_DIR = Path("feature_repo")
HELP = "copy the bundled NBA Feast repo to a folder, generate its data and `feast apply` it"


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "example-repo",
        help=HELP,
        description=(
            "Copies the example NBA Feast repo bundled with mlflow-feast-mcp to DIR, writes its "
            "synthetic parquet data into DIR/data and runs `feast apply` there, so that `serve` and "
            "`check` have a Feast registry to read. Prints the FEAST_REPO_PATH to use."
        ),
        epilog="example: mlflow-feast-mcp example-repo && mlflow-feast-mcp check",
    )
    configure(p)
    return p


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "dir",
        nargs="?",
        type=Path,
        default=DEFAULT_DIR,
        help=f"folder to create (default ./{DEFAULT_DIR}, the server's default FEAST_REPO_PATH)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="replace DIR if it already holds a Feast repo (feature_store.yaml)",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    repo = Path(args.dir).expanduser().resolve()
    if repo.exists() and any(repo.iterdir()):
        if not (repo / "feature_store.yaml").is_file():
            print(f"example-repo: {repo} exists and is not a Feast repo; choose an empty or new folder")
            return 2
        if not args.force:
            print(f"example-repo: {repo} already holds a Feast repo; pass --force to replace it")
            return 2
    from . import seeder

    print(f"copying the example NBA Feast repo to {repo}, generating its data and running feast apply ...")
    try:
        seeder.apply_example_repo(repo, repo / "data" / "feast-apply.log")
    except RuntimeError as exc:
        print(f"example-repo: {exc}")
        return 1
    print(f"Feast repo ready: {repo} (registry {repo / 'data' / 'registry.db'})")
    print(f"point the server at it: FEAST_REPO_PATH={repo}  (or --feast-repo {repo})")
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m mlflow_feast_mcp.demo.example_repo [DIR] [--force]` (the same as the subcommand)."""
    p = argparse.ArgumentParser(prog="python -m mlflow_feast_mcp.demo.example_repo", description=HELP)
    configure(p)
    args = p.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
