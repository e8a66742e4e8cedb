"""Opaque page tokens. A token carries where the next page starts in the backend's own paging
(`cursor`, e.g. MLflow's page token) plus how many items of that backend page were already
returned (`skip`), so a page cut short by the response budget continues exactly where it stopped."""

from __future__ import annotations

import base64
import json

from pydantic import BaseModel, ValidationError

from .errors import InvalidArgument


class PageCursor(BaseModel):
    cursor: str | int | None = None
    skip: int = 0
    scope: str = ""  # fingerprint of the query, so a token is not replayed against another query


def encode_page_token(cursor: str | int | None, skip: int = 0, scope: str = "") -> str:
    raw = PageCursor(cursor=cursor, skip=skip, scope=scope).model_dump_json(exclude_defaults=True)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_page_token(token: str | None, scope: str = "") -> PageCursor:
    """Decode a token from a previous answer; a foreign or stale token is an `InvalidArgument`."""
    if not token:
        return PageCursor(scope=scope)
    try:
        padded = token + "=" * (-len(token) % 4)
        page = PageCursor.model_validate(json.loads(base64.urlsafe_b64decode(padded.encode())))
    except (ValueError, ValidationError, UnicodeDecodeError) as exc:
        raise InvalidArgument(
            "page_token is not one this server issued. Pass the next_page_token from the previous "
            "answer unchanged, or omit it to start from the first page."
        ) from exc
    if page.scope != scope:
        raise InvalidArgument(
            "page_token belongs to a different query (other filters or order). Repeat the call with "
            "the same arguments as the one that returned the token, or omit page_token to start over."
        )
    if page.skip < 0:
        raise InvalidArgument("page_token is corrupt (negative skip). Omit it to start over.")
    return page


def query_scope(*parts: object) -> str:
    """A short fingerprint of the arguments that define a listing."""
    import hashlib

    return hashlib.sha1(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()[:10]
