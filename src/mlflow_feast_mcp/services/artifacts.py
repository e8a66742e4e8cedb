"""Artifacts, confined to their run and never deserialised: text is read in bounded windows,
binary files (pickles, model weights) are described, not loaded. A run's MLflow 3 LoggedModels keep
their files with the model, not the run: they are shown as `models/<model id>/` folders of the run
and read through MLflow's logged-model endpoints."""

from __future__ import annotations

import contextlib
import posixpath
import re
from typing import Any, Literal

import anyio
from pydantic import BaseModel, Field, PrivateAttr

from ..backends.mlflow_api import MlflowApi, MlflowMissing
from ..backends.mlflow_models import ArtifactFile, Run
from ..core import safe_json
from ..core.answer import Answer
from ..core.errors import BackendUnavailable, DomainError, InvalidArgument, NotFound, not_found, quote
from ..core.formatting import clip
from ..core.paging import PageInfo, Pager
from ..core.render import fence, scalar, table
from . import conventions as conv
from .logged_models import models_of_run

BINARY_SUFFIXES = {
    ".pkl", ".pickle", ".joblib", ".pt", ".pth", ".h5", ".onnx", ".bin", ".npy", ".npz", ".parquet",
    ".png", ".jpg", ".jpeg", ".gif", ".zip", ".gz", ".tar", ".whl", ".so", ".ckpt", ".safetensors",
    ".pb", ".ubj", ".cbm", ".db", ".sqlite", ".xgb", ".lgb", ".pdf", ".skops", ".keras",
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


async def root_listing(api: MlflowApi, run_id: str) -> tuple[list[ArtifactFile], str | None]:
    """The run's top-level artifacts, or none and why: one entry the artifact store cannot read (MLflow
    answers 500 for a broken symlink) must not hide the rest of an answer about the run."""
    try:
        return await list_dir(api, run_id, ""), None
    except BackendUnavailable as exc:
        return [], clip(str(exc), 400)


MODEL_PATH = re.compile(r"^models/(m-[0-9a-f]{32})(?:/(.*))?$")


def model_folder(model_id: str) -> str:
    """Where the artifact tools show a run's LoggedModel: `models/<model id>`."""
    return f"{conv.LOGGED_MODELS_PREFIX}{model_id}"


async def _owned_model(api: MlflowApi, run: Run, path: str) -> tuple[str, str] | None:
    """(model id, path inside the model) when `path` is under one of the run's LoggedModels."""
    match = MODEL_PATH.match(path)
    if not match:
        return None
    model_id, inner = match.group(1), match.group(2) or ""
    if model_id not in run.model_ids:
        try:
            model = await api.get_logged_model(model_id)
        except MlflowMissing:
            return None
        if model.source_run_id != run.run_id:
            return None
    return model_id, inner


async def list_files(api: MlflowApi, run: Run, path: str) -> list[ArtifactFile]:
    """A folder's entries with paths from the run's root; under `models/<id>` the LoggedModel's."""
    owned = await _owned_model(api, run, path)
    if owned is None:
        return await list_dir(api, run.run_id, path)
    model_id, inner = owned
    try:
        files = await api.list_logged_model_artifacts(model_id, inner or None)
    except MlflowMissing:
        return []
    base = model_folder(model_id)
    out = []
    for f in files:
        relative = f.path if not inner or f.path.startswith(inner + "/") else f"{inner}/{f.path}"
        out.append(ArtifactFile(path=f"{base}/{relative}", is_dir=f.is_dir, file_size=f.file_size))
    return out


async def read_file(api: MlflowApi, run: Run, path: str, offset: int, length: int) -> tuple[bytes, int]:
    owned = await _owned_model(api, run, path)
    if owned is None:
        return await api.read_artifact(run.run_id, path, offset, length)
    return await api.read_logged_model_artifact(owned[0], owned[1], offset, length)


async def read_json_artifact(api: MlflowApi, run_id: str, path: str, limit: int = 2_000_000) -> Any | None:
    """Parse a small JSON artifact; None when absent or not JSON."""
    try:
        data, total = await api.read_artifact(run_id, path, 0, limit)
    except (MlflowMissing, NotFound, InvalidArgument):
        return None
    if total > limit:
        return None
    try:
        if len(data) < OFF_LOOP_BYTES:
            return safe_json.loads(data)
        # parsing megabytes takes the event loop's time from every other client: a worker thread
        return await anyio.to_thread.run_sync(safe_json.loads, data)
    except (UnicodeDecodeError, ValueError):
        return None


OFF_LOOP_BYTES = 64 * 1024


MAX_DEPTH = 4


class ArtifactEntry(BaseModel):
    path: str
    is_dir: bool = False
    size_bytes: int | None = None
    logged_model: str | None = Field(None, description="the LoggedModel's name, on a models/<id>/ folder")


class ArtifactTree(PageInfo):
    run_id: str
    root: str = Field("", description="the folder listed; absent: the run's root")
    entries: list[ArtifactEntry]
    total_bytes: int
    note: str | None = None
    unreadable: list[str] = Field([], description="folders that could not be listed, and why")

    def render_text(self) -> str:
        lines = [f"run {self.run_id} artifacts under '{self.root or '/'}' ({self.total_bytes} bytes listed):"]
        lines += table([e.model_dump(exclude_none=True) for e in self.entries], "  ")
        lines += [self.note] if self.note else []
        lines += [f"could not list {scalar(folder)}" for folder in self.unreadable]
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
    api: MlflowApi, run: Run, path: str | None, depth: int, page_token: str | None, budget: int
) -> ArtifactTree:
    root = safe_artifact_path(path)
    entries: list[ArtifactEntry] = []
    frontier = [(root, 1)]
    unreadable: list[str] = []
    models = await _model_folders(api, run, root)
    for model_id, name in models.items():  # a LoggedModel counts as one level: its files show at depth 2
        entries.append(ArtifactEntry(path=model_folder(model_id) + "/", is_dir=True, logged_model=name))
        if depth > 1:
            frontier.append((model_folder(model_id), 2))
    while frontier:
        folder, level = frontier.pop(0)
        listing: list[ArtifactFile] = []
        if folder == root == "models" and models:
            with contextlib.suppress(NotFound):  # a real models/ folder besides the LoggedModels
                listing = await list_files(api, run, folder)
        elif folder == root:
            try:
                listing = await list_files(api, run, folder)
            except BackendUnavailable as exc:
                raise BackendUnavailable(
                    f"MLflow could not list {quote(root) if root else 'the artifact root'} of run {run.run_id}: "
                    f"{str(exc).rstrip('.')}. "
                    "When MLflow itself answers otherwise, one entry its artifact store cannot read (a broken "
                    "symlink, a permission) fails the whole folder; a subfolder by name may still list."
                ) from exc
        else:  # one unreadable subfolder (a permission, a broken store path) does not hide the rest
            try:
                listing = await list_files(api, run, folder)
            except DomainError as exc:
                unreadable.append(f"{folder}/: {clip(str(exc), 200)}")
                continue
        if folder == root and not listing and root and not models:
            raise NotFound(
                f"Run {run.run_id} has no artifact folder {quote(root)}. List the root to see what exists."
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
    pager = Pager.open("mlflow_list_artifacts", page_token, run.run_id, root, depth)
    total = sum(e.size_bytes or 0 for e in entries)
    note = "This run has no artifacts here." if not entries else None
    if models:
        example = model_folder(next(iter(models)))
        note = (
            "models/<id>/ are the run's MLflow 3 LoggedModels: their files live with the model, not the "
            f"run; read one with mlflow_read_artifact(path='{example}/MLmodel')."
        )
    return pager.page(
        entries,
        lambda items, info: ArtifactTree(
            run_id=run.run_id,
            root=root,
            entries=items,
            total_bytes=total,
            note=note,
            unreadable=unreadable,
            **info.model_dump(),
        ),
        budget,
        None,
    )


async def _model_folders(api: MlflowApi, run: Run, root: str) -> dict[str, str]:
    """model id -> name of the run's LoggedModels to show as folders of `root` (the root or models/)."""
    if root not in ("", "models") or not run.model_ids:
        return {}
    return {m.model_id: m.name for m in await models_of_run(api, run)}


async def read_artifact_window(
    api: MlflowApi, run: Run, path: str, offset: int, max_bytes: int | None, budget: int
) -> ArtifactContent:
    run_id = run.run_id
    clean = safe_artifact_path(path)
    if not clean:
        raise InvalidArgument(
            "path names the artifact root; pass a file, e.g. 'training_artifacts/features.json'."
        )
    parent, name = posixpath.split(clean)
    siblings = await list_files(api, run, parent)
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
        data, total = await read_file(api, run, clean, offset, window)
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
