"""Paging for every list answer. A page token carries where the next page starts in the backend's
own paging (`cursor`: MLflow's page token, or an offset into an in-memory list) plus how many items
of that backend page were already returned (`skip`), so a page cut short by the response budget
continues exactly where it stopped. Tokens are bound to the query that issued them and signed
(HMAC-SHA256 with a per-process key, or a configured one that stateless replicas share), so a
forged or edited token is refused instead of steering a backend call.

Every page says its coverage: how many items it returned, whether more exist, and the total when it
is known without extra backend calls (an in-memory list, or the last backend page: the items
returned before it, which the token counts, plus the ones left), else a lower bound."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel, Field, ValidationError

from .answer import Answer
from .budget import fit
from .errors import InvalidArgument
from .render import render

A = TypeVar("A", bound=Answer)
T = TypeVar("T")


class PageInfo(Answer):
    """Paging, truncation and coverage, on every list answer."""

    returned: int
    offset: int = 0  # items on earlier pages
    has_more: bool
    total: int | None = None  # every item of the query, when known without extra backend calls
    total_at_least: int | None = None  # else a lower bound
    next_page_token: str | None = Field(None, description="pass as page_token to get the next page")
    truncated: bool = Field(False, description="true when the answer was cut to fit the response budget")
    hint: str | None = Field(None, description="how to get the rest when more exists")

    def coverage(self) -> str:
        """'coverage: 21-40 of at least 57, more exist' in one line."""
        first, last = self.offset + 1, self.offset + self.returned
        span = f"{first}-{last}" if self.returned else "none"
        if self.total is not None:
            of = f" of {self.total}"
        elif self.total_at_least is not None:
            of = f" of at least {self.total_at_least}"
        else:
            of = ""
        return f"coverage: {span}{of}" + (", more exist" if self.has_more else "")

    def paging_lines(self) -> list[str]:
        """The coverage line, then how to get the rest: the tail of every list answer's text."""
        return [self.coverage()] + ([self.hint] if self.hint else [])

    def render_text(self) -> str:
        own = {k: v for k, v in self.model_dump(mode="json", exclude_none=True).items() if k not in PAGING}
        body = render(own)
        return "\n".join(line for line in [body, *self.paging_lines()] if line)


PAGING = frozenset(PageInfo.model_fields)


class _Token(BaseModel):
    cursor: str | int | None = None
    skip: int = 0
    scope: str = ""
    before: int = 0  # items returned by earlier answers of this query, for the coverage count


def query_scope(*parts: object) -> str:
    """A short fingerprint of the arguments that define a listing."""
    return hashlib.sha1(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()[:10]


_signing_key = secrets.token_bytes(32)
MAX_TOKEN_CHARS = 4_000
_NOT_OURS = (
    "page_token is not one this server issued. Pass the next_page_token from the previous answer "
    "unchanged, or omit it to start from the first page."
)


def set_signing_key(key: str | None) -> None:
    """Sign tokens with `key` (shared by replicas behind one balancer); None keeps the process's own."""
    global _signing_key
    if key:
        _signing_key = hashlib.sha256(key.encode()).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode((text + "=" * (-len(text) % 4)).encode())


def _signature(payload: bytes) -> bytes:
    return hmac.new(_signing_key, payload, hashlib.sha256).digest()[:16]


def _encode(cursor: str | int | None, skip: int, scope: str, before: int = 0) -> str:
    token = _Token(cursor=cursor, skip=skip, scope=scope, before=before)
    payload = token.model_dump_json(exclude_defaults=True).encode()
    return f"{_b64(payload)}.{_b64(_signature(payload))}"


def _decode(token: str | None, scope: str) -> _Token:
    if not token:
        return _Token(scope=scope)
    try:
        if len(token) > MAX_TOKEN_CHARS:
            raise ValueError("too long")
        body, _, signature = token.partition(".")
        payload = _unb64(body)
        if not hmac.compare_digest(_unb64(signature), _signature(payload)):
            raise ValueError("bad signature")
        page = _Token.model_validate(json.loads(payload))
    except (ValueError, ValidationError, UnicodeDecodeError) as exc:
        raise InvalidArgument(_NOT_OURS) from exc
    if page.scope != scope:
        raise InvalidArgument(
            "page_token belongs to a different query (other filters or order). Repeat the call with "
            "the same arguments as the one that returned the token, or omit page_token to start over."
        )
    if page.skip < 0 or page.before < 0:
        raise InvalidArgument("page_token is corrupt (negative skip). Omit it to start over.")
    return page


@dataclass
class Pager:
    """One listing's paging: open it from the call's page_token and the arguments that define the
    query, fetch the backend page at `cursor`, then `page` (backend-paged) or `page_list` (in memory)
    builds the answer that fits the budget and carries the token for the rest."""

    tool: str
    scope: str
    cursor: str | int | None = None
    skip: int = 0
    before: int = 0  # items returned before this page
    total: int | None = None  # the whole listing's size, when it is held in memory (`window`)

    @classmethod
    def open(cls, tool: str, page_token: str | None, *query: object) -> Pager:
        scope = query_scope(tool, *query)
        token = _decode(page_token, scope)
        return cls(tool=tool, scope=scope, cursor=token.cursor, skip=token.skip, before=token.before)

    @property
    def backend_token(self) -> str | None:
        """The cursor as the backend's own page token."""
        return self.cursor if isinstance(self.cursor, str) else None

    @property
    def offset(self) -> int:
        """The cursor as an offset into an in-memory list."""
        if self.cursor is None:
            return 0
        if not isinstance(self.cursor, int) or self.cursor < 0:
            raise InvalidArgument(_NOT_OURS)
        return self.cursor

    def page(
        self,
        rows: Sequence[T],
        build: Callable[[list[T], PageInfo], A],
        budget: int,
        next_cursor: str | int | None,
        *,
        sliced: bool = False,
    ) -> A:
        """Fit one backend page into the budget (from the token's `skip` on; `sliced` when `rows`
        already start there). A page cut by the budget continues at the same backend page, further
        in; a whole page continues at the backend's next page."""
        items = list(rows if sliced else rows[self.skip :])
        known = self.total
        if known is None and next_cursor is None:
            known = self.before + len(items)  # the last backend page: nothing after these items

        def make(n: int) -> A:
            after = self.before + n
            if n < len(items):
                token: str | None = _encode(self.cursor, self.skip + n, self.scope, after)
            else:
                token = _encode(next_cursor, 0, self.scope, after) if next_cursor is not None else None
            info = self._info(token, n < len(items), n, known, self.before + len(items))
            return build(items[:n], info)

        return fit(make, len(items), budget)

    def window(self, items: Sequence[T], page_size: int) -> tuple[list[T], int | None]:
        """This page's part of an in-memory list in a stable order (from `skip` on), and the offset
        of the next page if there is one."""
        start = self.offset
        more = start + page_size < len(items)
        self.total = len(items)
        return list(items[start : start + page_size][self.skip :]), start + page_size if more else None

    def page_list(
        self, items: Sequence[T], page_size: int, build: Callable[[list[T], PageInfo], A], budget: int
    ) -> A:
        """One page of an in-memory list, cut to the budget."""
        visible, next_offset = self.window(items, page_size)
        return self.page(visible, build, budget, next_offset, sliced=True)

    def _info(self, token: str | None, truncated: bool, n: int, total: int | None, seen: int) -> PageInfo:
        hint = None
        if token:
            why = "Cut to fit the response budget. " if truncated else ""
            hint = (
                f"{why}More results: call {self.tool} again with the same arguments and page_token='{token}'."
            )
        return PageInfo(
            returned=n,
            offset=self.before,
            has_more=token is not None,
            total=total,
            total_at_least=None if total is not None else seen,
            next_page_token=token,
            truncated=truncated,
            hint=hint,
        )
