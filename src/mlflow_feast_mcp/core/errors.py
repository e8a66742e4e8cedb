"""Domain errors: what went wrong, in words an agent can act on. Nothing here knows MCP; the server
turns every `DomainError` into the protocol's tool or resource error at its edge."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class DomainError(Exception):
    """An anticipated failure whose message is written for the agent that caused or can fix it."""


class NotFound(DomainError):
    """A named thing does not exist."""


class InvalidArgument(DomainError):
    """An argument is malformed or out of range."""


class Ambiguous(DomainError):
    """A reference matches more than one thing."""


class BackendUnavailable(DomainError):
    """MLflow or Feast cannot be reached or loaded."""


class PermissionDenied(DomainError):
    """The backend refused the credentials."""


def closest(name: str, candidates: Iterable[str], n: int = 3, cutoff: float = 0.6) -> list[str]:
    """The candidates most like `name`, best first (case-insensitive); prefixes count as close."""
    pool = {c.lower(): c for c in candidates if c}
    lowered = name.lower()
    hits = [pool[m] for m in difflib.get_close_matches(lowered, list(pool), n=n, cutoff=cutoff)]
    for key, original in pool.items():  # substring matches often beat edit distance for prefixes
        if lowered and lowered in key and original not in hits:
            hits.append(original)
    return hits[:n]


def not_found(kind: str, name: str, candidates: Iterable[str] = (), hint: str = "") -> NotFound:
    """`No experiment 'nba_game'. Did you mean 'nba_game_winner_prediction'?`"""
    message = f"No {kind} {quote(name)}."
    matches = closest(name, candidates)
    if matches:
        message += " Did you mean " + " or ".join(quote(m) for m in matches) + "?"
    if hint:
        message += " " + hint
    return NotFound(message)


def quote(value: object, limit: int = 120) -> str:
    """Quote user input for an error message, cut so a hostile string cannot flood the reply."""
    text = str(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    return repr(text)
