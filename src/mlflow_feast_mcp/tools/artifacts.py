"""A run's artifacts: the tree with sizes, and bounded reads of text and JSON files."""

from __future__ import annotations

import posixpath
from typing import Annotated, Literal

from mcp.server import MCPServer
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from ..backends.mlflow_api import MlflowMissing
from ..core.errors import InvalidArgument, NotFound, quote
from ..core.paging import decode_page_token, query_scope
from ..core.render import table
from ..core.results import tool_result
from ..server.backends import Backends
from ..services.artifacts import PICKLE_SUFFIXES, is_binary_name, list_dir, looks_binary, safe_artifact_path
from ..services.mlflow_lookup import resolve_run
from .common import READ_ONLY, PageInfo, PageToken, RunRef, budgeted_page

MAX_DEPTH = 4


class ArtifactEntry(BaseModel):
    path: str
    is_dir: bool = False
    size_bytes: int | None = None


class ArtifactTree(PageInfo):
    run_id: str
    root: str
    entries: list[ArtifactEntry]
    total_bytes: int
    note: str | None = None


class ArtifactContent(BaseModel):
    run_id: str
    path: str
    kind: Literal["text", "json", "binary"]
    size_bytes: int | None = None
    offset: int = 0
    content: str | None = Field(None, description="the window of text read; absent for binary files")
    next_offset: int | None = Field(
        None, description="pass as offset to read on; absent at the end of the file"
    )
    truncated: bool = False
    hint: str | None = None


def _tree_text(answer: ArtifactTree) -> str:
    lines = [
        f"run {answer.run_id} artifacts under '{answer.root or '/'}' ({answer.total_bytes} bytes listed):"
    ]
    lines += table([e.model_dump(exclude_none=True) for e in answer.entries], "  ")
    for extra in (answer.note, answer.hint):
        if extra:
            lines.append(extra)
    return "\n".join(lines)


def register(mcp: MCPServer, backends: Backends) -> None:
    settings = backends.settings

    @mcp.tool(annotations=READ_ONLY, structured_output=True)
    async def mlflow_list_artifacts(
        run_id: RunRef,
        path: Annotated[
            str | None,
            Field(
                description="folder inside the run, e.g. 'training_artifacts'; omit for the root",
                max_length=1000,
            ),
        ] = None,
        depth: Annotated[int, Field(ge=1, le=MAX_DEPTH, description="folder levels to expand, e.g. 2")] = 2,
        page_token: PageToken = None,
    ) -> Annotated[CallToolResult, ArtifactTree]:
        """The artifact tree of a run with file sizes (folders expanded to `depth` levels), e.g. to check that
        training_artifacts/features.json and feature_importances.json were logged."""
        api = await backends.mlflow()
        run = await resolve_run(api, run_id, settings.default_experiment)
        rid = run["info"]["run_id"]
        root = safe_artifact_path(path)
        entries: list[ArtifactEntry] = []
        frontier = [(root, 1)]
        while frontier:
            folder, level = frontier.pop(0)
            listing = await list_dir(api, rid, folder)
            if folder == root and not listing and root:
                raise NotFound(
                    f"Run {rid} has no artifact folder {quote(root)}. List the root to see what exists."
                )
            for item in sorted(listing, key=lambda f: f["path"]):
                is_dir = bool(item.get("is_dir"))
                size = int(item["file_size"]) if item.get("file_size") not in (None, "") else None
                entries.append(
                    ArtifactEntry(path=item["path"] + ("/" if is_dir else ""), is_dir=is_dir, size_bytes=size)
                )
                if is_dir and level < depth:
                    frontier.append((item["path"], level + 1))
        entries.sort(key=lambda e: e.path)
        scope = query_scope("artifacts", rid, root, depth)
        page = decode_page_token(page_token, scope)
        total = sum(e.size_bytes or 0 for e in entries)
        answer = budgeted_page(
            "mlflow_list_artifacts",
            entries[int(page.cursor or 0) + page.skip :],
            lambda items, info: ArtifactTree(
                run_id=rid,
                root=root,
                entries=items,
                total_bytes=total,
                note=None if entries else "This run has no artifacts here.",
                **info.model_dump(),
            ),
            settings.response_budget,
            cursor=int(page.cursor or 0),
            skip=page.skip,
            next_cursor=None,
            scope=scope,
            text=_tree_text,
        )
        return tool_result(answer, _tree_text(answer))

    @mcp.tool(annotations=READ_ONLY, structured_output=True)
    async def mlflow_read_artifact(
        run_id: RunRef,
        path: Annotated[
            str,
            Field(
                description="file inside the run, e.g. 'training_artifacts/features.json'",
                min_length=1,
                max_length=1000,
            ),
        ],
        offset: Annotated[
            int, Field(ge=0, description="byte offset to start at, from a previous next_offset")
        ] = 0,
        max_bytes: Annotated[
            int | None,
            Field(ge=256, le=200_000, description="bytes to read (default: what the response budget allows)"),
        ] = None,
    ) -> Annotated[CallToolResult, ArtifactContent]:
        """The content of a text or JSON artifact, read in a bounded window with offset paging. Binary files
        (pickles, models, images) are described by size and type, never loaded or unpickled."""
        api = await backends.mlflow()
        run = await resolve_run(api, run_id, settings.default_experiment)
        rid = run["info"]["run_id"]
        clean = safe_artifact_path(path)
        if not clean:
            raise InvalidArgument(
                "path names the artifact root; pass a file, e.g. 'training_artifacts/features.json'."
            )
        parent, name = posixpath.split(clean)
        siblings = await list_dir(api, rid, parent)
        entry = next((f for f in siblings if f["path"] == clean), None)
        if entry is None:
            from ..core.errors import not_found

            raise not_found(
                f"artifact in run {rid}",
                clean,
                [f["path"] for f in siblings],
                "List the run's files with mlflow_list_artifacts.",
            )
        if entry.get("is_dir"):
            raise InvalidArgument(
                f"{quote(clean)} is a folder; list it with mlflow_list_artifacts(path='{clean}')."
            )
        size = int(entry["file_size"]) if entry.get("file_size") not in (None, "") else None
        suffix = posixpath.splitext(clean.lower())[1]
        if is_binary_name(clean):
            why = "a pickle: never unpickled by this server" if suffix in PICKLE_SUFFIXES else "binary"
            return tool_result(
                ArtifactContent(
                    run_id=rid,
                    path=clean,
                    kind="binary",
                    size_bytes=size,
                    hint=f"{name} is {why}; only metadata is returned.",
                )
            )
        window = min(max_bytes or settings.response_budget // 2, settings.response_budget // 2)
        if size is not None and offset > size:
            raise InvalidArgument(f"offset {offset} is past the end of {quote(clean)} ({size} bytes).")
        try:
            data, total = await api.read_artifact(rid, clean, offset, window)
        except MlflowMissing:
            raise NotFound(f"Artifact {quote(clean)} of run {rid} is listed but could not be read.") from None
        total = size if size is not None else total
        if offset == 0 and looks_binary(data):
            return tool_result(
                ArtifactContent(
                    run_id=rid,
                    path=clean,
                    kind="binary",
                    size_bytes=total,
                    hint="Content is not UTF-8 text; only metadata is returned.",
                )
            )
        text = data.decode("utf-8", errors="ignore")  # a window may cut a multi-byte character
        end = offset + len(data)
        more = total is not None and total >= 0 and end < total
        answer = ArtifactContent(
            run_id=rid,
            path=clean,
            kind="json" if suffix == ".json" else "text",
            size_bytes=total if total is not None and total >= 0 else None,
            offset=offset,
            content=text,
            next_offset=end if more else None,
            truncated=more,
            hint=(f"Showing bytes {offset}-{end} of {total}. Read on with offset={end}." if more else None),
        )
        header = f"{clean} ({answer.kind}, {answer.size_bytes} bytes), bytes {offset}-{end}:"
        footer = f"\n[{answer.hint}]" if answer.hint else ""
        return tool_result(answer, f"{header}\n<<<artifact content\n{text}\nartifact content>>>{footer}")
