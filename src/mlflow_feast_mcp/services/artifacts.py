"""Artifacts, confined to their run and never deserialised: text is read in bounded windows,
binary files (pickles, model weights) are described, not loaded."""

from __future__ import annotations

import posixpath
from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr

from ..backends.mlflow_api import MlflowApi, MlflowMissing
from ..backends.mlflow_models import ArtifactFile
from ..core import safe_json
from ..core.answer import Answer
from ..core.errors import InvalidArgument, NotFound, not_found, quote
from ..core.paging import PageInfo, Pager
from ..core.render import fence, scalar, table

BINARY_SUFFIXES = {
    ".pkl", ".pickle", ".joblib", ".pt", ".pth", ".h5", ".onnx", ".bin", ".npy", ".npz", ".parquet",
    ".png", ".jpg", ".jpeg", ".gif", ".zip", ".gz", ".tar", ".whl", ".so", ".ckpt", ".safetensors",
    ".pb", ".ubj", ".cbm", ".db", ".sqlite", ".xgb", ".lgb", ".pdf",
}  # fmt: skip
PICKLE_SUFFIXES = {".pkl", ".pickle", ".joblib"}


def safe_artifact_path(path: str | None) -> str:
    """A normalised path inside the run's artifact root; traversal and absolute paths refused."""
    if path is None:
        return ""
    raw = path.strip()
    if "\x00" in raw or any(ord(ch) < 32 for ch in raw):
        raise InvalidArgument("Artifact path contains control characters.")
    if raw.startswith(("/", "\\")) or "://" in raw or (len(raw) > 1 and raw[1] == ":"):
        raise InvalidArgument(
            f"Artifact path {quote(raw)} must be relative to the run's artifact root, e.g. "
            "'training_artifacts/features.json'."
        )
    parts = raw.replace("\\", "/").split("/")
    if ".." in parts:
        raise InvalidArgument(f"Artifact path {quote(raw)} leaves the run's artifacts ('..' is not allowed).")
    normal = posixpath.normpath("/".join(p for p in parts if p not in ("", ".")))
    return "" if normal == "." else normal


def is_binary_name(path: str) -> bool:
    return posixpath.splitext(path.lower())[1] in BINARY_SUFFIXES


def looks_binary(data: bytes) -> bool:
    if b"\x00" in data[:4096]:
        return True
    try:
        data[:4096].decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < len(data[:4096]) - 4  # a cut multi-byte char at the end is still text
    return False


async def list_dir(api: MlflowApi, run_id: str, path: str) -> list[ArtifactFile]:
    try:
        return await api.list_artifacts(run_id, path or None)
    except MlflowMissing:
        raise NotFound(f"No run with id {quote(run_id)}.") from None


async def read_json_artifact(api: MlflowApi, run_id: str, path: str, limit: int = 2_000_000) -> Any | None:
    """Parse a small JSON artifact; None when absent or not JSON."""
    try:
        data, total = await api.read_artifact(run_id, path, 0, limit)
    except (MlflowMissing, NotFound, InvalidArgument):
        return None
    if total > limit:
        return None
    try:
        return safe_json.loads(data)
    except (UnicodeDecodeError, ValueError):
        return None


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

    def render_text(self) -> str:
        lines = [f"run {self.run_id} artifacts under '{self.root or '/'}' ({self.total_bytes} bytes listed):"]
        lines += table([e.model_dump(exclude_none=True) for e in self.entries], "  ")
        lines += [self.note] if self.note else []
        return "\n".join(lines + self.paging_lines())


class ArtifactContent(Answer):
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

    _end: int = PrivateAttr(0)  # the byte offset the window ends at

    def render_text(self) -> str:
        if self.content is None:
            return super().render_text()
        header = (
            f"{scalar(self.path)} ({self.kind}, {self.size_bytes} bytes), bytes {self.offset}-{self._end}:"
        )
        opening, body, closing = fence(self.content)
        footer = f"\n[{self.hint}]" if self.hint else ""
        return f"{header}\n{opening}\n{body}\n{closing}{footer}"


async def artifact_tree(
    api: MlflowApi, run_id: str, path: str | None, depth: int, page_token: str | None, budget: int
) -> ArtifactTree:
    root = safe_artifact_path(path)
    entries: list[ArtifactEntry] = []
    frontier = [(root, 1)]
    while frontier:
        folder, level = frontier.pop(0)
        listing = await list_dir(api, run_id, folder)
        if folder == root and not listing and root:
            raise NotFound(
                f"Run {run_id} has no artifact folder {quote(root)}. List the root to see what exists."
            )
        for item in sorted(listing, key=lambda f: f.path):
            entries.append(
                ArtifactEntry(
                    path=item.path + ("/" if item.is_dir else ""),
                    is_dir=item.is_dir,
                    size_bytes=item.file_size,
                )
            )
            if item.is_dir and level < depth:
                frontier.append((item.path, level + 1))
    entries.sort(key=lambda e: e.path)
    pager = Pager.open("mlflow_list_artifacts", page_token, run_id, root, depth)
    total = sum(e.size_bytes or 0 for e in entries)
    return pager.page(
        entries,
        lambda items, info: ArtifactTree(
            run_id=run_id,
            root=root,
            entries=items,
            total_bytes=total,
            note=None if entries else "This run has no artifacts here.",
            **info.model_dump(),
        ),
        budget,
        None,
    )


async def read_artifact_window(
    api: MlflowApi, run_id: str, path: str, offset: int, max_bytes: int | None, budget: int
) -> ArtifactContent:
    clean = safe_artifact_path(path)
    if not clean:
        raise InvalidArgument(
            "path names the artifact root; pass a file, e.g. 'training_artifacts/features.json'."
        )
    parent, name = posixpath.split(clean)
    siblings = await list_dir(api, run_id, parent)
    entry = next((f for f in siblings if f.path == clean), None)
    if entry is None:
        raise not_found(
            f"artifact in run {run_id}",
            clean,
            [f.path for f in siblings],
            "List the run's files with mlflow_list_artifacts.",
        )
    if entry.is_dir:
        raise InvalidArgument(
            f"{quote(clean)} is a folder; list it with mlflow_list_artifacts(path='{clean}')."
        )
    size = entry.file_size
    suffix = posixpath.splitext(clean.lower())[1]
    if is_binary_name(clean):
        why = "a pickle: never unpickled by this server" if suffix in PICKLE_SUFFIXES else "binary"
        return ArtifactContent(
            run_id=run_id,
            path=clean,
            kind="binary",
            size_bytes=size,
            hint=f"{name} is {why}; only metadata is returned.",
        )
    window = min(max_bytes or budget // 2, budget // 2)
    if size is not None and offset > size:
        raise InvalidArgument(f"offset {offset} is past the end of {quote(clean)} ({size} bytes).")
    try:
        data, total = await api.read_artifact(run_id, clean, offset, window)
    except MlflowMissing:
        raise NotFound(f"Artifact {quote(clean)} of run {run_id} is listed but could not be read.") from None
    total = size if size is not None else total
    if offset == 0 and looks_binary(data):
        return ArtifactContent(
            run_id=run_id,
            path=clean,
            kind="binary",
            size_bytes=total,
            hint="Content is not UTF-8 text; only metadata is returned.",
        )
    text = data.decode("utf-8", errors="ignore")  # a window may cut a multi-byte character
    end = offset + len(data)
    more = total is not None and total >= 0 and end < total
    answer = ArtifactContent(
        run_id=run_id,
        path=clean,
        kind="json" if suffix == ".json" else "text",
        size_bytes=total if total is not None and total >= 0 else None,
        offset=offset,
        content=text,
        next_offset=end if more else None,
        truncated=more,
        hint=(f"Showing bytes {offset}-{end} of {total}. Read on with offset={end}." if more else None),
    )
    answer._end = end
    return answer
