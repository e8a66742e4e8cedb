"""What the model sees right now: the online values of a feature service or of feature references for a
few entity keys, with each view's event timestamp and whether a value is stored at all."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from ..backends.feast_online import OnlineRead, ViewRead
from ..core.answer import Answer
from ..core.budget import fit
from ..core.formatting import clip, counted, iso_from_datetime, round_number
from ..core.render import scalar


class ViewValues(BaseModel):
    view: str
    event_timestamp: str | None = None
    present: bool
    missing: list[str] = []  # requested features without a stored value, when some have one
    not_read: str | None = None  # why the online store was not asked (an on-demand view)
    values: dict[str, Any] = {}


class EntityFeatures(BaseModel):
    entity: dict[str, Any]
    present: bool  # every requested feature has a stored value
    views: list[ViewValues]


class OnlineFeatures(Answer):
    source: str
    project: str
    online_store: str
    feature_count: int
    rows: list[EntityFeatures]
    truncated: bool = False
    hint: str | None = None

    def render_text(self) -> str:
        lines = [
            f"{self.source} (project {scalar(self.project)}, online store {self.online_store}): "
            f"{counted(self.feature_count, 'feature')}, {counted(len(self.rows), 'entity row')}"
        ]
        for row in self.rows:
            key = ", ".join(f"{scalar(k)}={scalar(v)}" for k, v in row.entity.items()) or "(no entity)"
            stored = any(v.values for v in row.views)
            lines.append(f"{key}: {'present' if row.present else 'PARTIAL' if stored else 'ABSENT'}")
            lines += ["  " + _view_line(v) for v in row.views]
        if self.hint:
            lines.append(self.hint)
        return "\n".join(lines)


def _view_line(v: ViewValues) -> str:
    if v.not_read:
        return f"{scalar(v.view)}: not read ({v.not_read})"
    if not v.event_timestamp:
        return f"{scalar(v.view)}: ABSENT (nothing stored for this key)"
    values = ", ".join(f"{scalar(k)}={_text(value)}" for k, value in v.values.items())
    missing = f"; MISSING {', '.join(scalar(m) for m in v.missing)}" if v.missing else ""
    return f"{scalar(v.view)} @ {v.event_timestamp}: {values}{missing}"


def _text(value: Any) -> str:
    """A value as the structured content holds it (floats unrounded beyond their 6 digits)."""
    if isinstance(value, (list, dict)):
        return scalar(clip(json.dumps(value, ensure_ascii=False), 200))
    if isinstance(value, float):
        return repr(value)
    return scalar(value)


def _json(value: Any) -> Any:
    """A Feast value as JSON: times ISO, bytes summarized, floats to 6 significant digits."""
    if isinstance(value, datetime):
        return iso_from_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    if isinstance(value, float):
        return round_number(value, 6)
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value[:50]]
    if isinstance(value, str):
        return clip(value, 500)
    if value is None or isinstance(value, (bool, int)):
        return value
    return clip(str(value), 200)


def _row(n: int, read: OnlineRead) -> EntityFeatures:
    views = [_view_values(view, n) for view in read.views]
    return EntityFeatures(
        entity=dict(read.entity_rows[n]), present=all(v.present for v in views), views=views
    )


def _view_values(view: ViewRead, n: int) -> ViewValues:
    if view.not_read:
        return ViewValues(view=view.view, present=False, not_read=view.not_read)
    moment, stored = view.values[n]
    values = {f: _json(stored[f]) for f in view.features if stored.get(f) is not None}
    missing = [f for f in view.features if f not in values] if values else []
    return ViewValues(
        view=view.view,
        event_timestamp=iso_from_datetime(moment),
        present=bool(values) and not missing,
        missing=missing,
        values=values,
    )


def online_features_answer(read: OnlineRead, budget: int) -> OnlineFeatures:
    rows = [_row(n, read) for n in range(len(read.entity_rows))]
    features = sum(len(v.features) for v in read.views)

    def build(n: int) -> OnlineFeatures:
        cut = n < len(rows)
        return OnlineFeatures(
            source=read.source,
            project=read.project,
            online_store=read.online_store,
            feature_count=features,
            rows=rows[:n],
            truncated=cut,
            hint=f"{len(rows) - n} entity rows not shown: ask for them in a second call" if cut else None,
        )

    return fit(build, len(rows), budget)
