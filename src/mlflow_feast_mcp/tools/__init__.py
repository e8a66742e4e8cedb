"""The tools, one module per concern. `register_all` puts every tool on a server."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mcp.server import MCPServer

    from ..server.backends import Backends


def register_all(mcp: MCPServer, backends: Backends) -> None:
    from . import artifacts, registry, runs

    for module in (runs, artifacts, registry):
        module.register(mcp, backends)
    for optional in ("feast", "alignment", "validation"):
        try:
            module = __import__(f"{__name__}.{optional}", fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{optional}":
                raise
            continue
        module.register(mcp, backends)
