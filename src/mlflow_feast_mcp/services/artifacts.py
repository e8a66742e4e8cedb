"""Artifacts, confined to their run and never deserialised: text is read in bounded windows,
binary files (pickles, model weights) are described, not loaded."""

from __future__ import annotations

import json
import posixpath
from typing import Any

from ..backends.mlflow_api import MlflowApi, MlflowMissing
from ..core.errors import InvalidArgument, NotFound, quote

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


async def list_dir(api: MlflowApi, run_id: str, path: str) -> list[dict[str, Any]]:
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
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
