"""The base of every output model: an answer has structured content (for programs, and the model in
clients that read it) and a compact text (for the model), both measured against one budget."""

from __future__ import annotations

import json
from typing import Any, Self

from pydantic import BaseModel

from .render import render


class Answer(BaseModel):
    """An output model. Subclasses override `render_text` when the generic rendering reads poorly, and
    `concise` when their concise form tells less than the whole model."""

    def concise(self) -> Self:
        """The concise form: what the concise text tells, and nothing more. Both views of a concise
        answer (text and structured content) are rendered from it, so they carry the same facts."""
        return self

    def structured(self) -> dict[str, Any]:
        """The structured content, as lean as the text: fields left at their (empty) default are omitted."""
        return self.model_dump(mode="json", exclude_none=True, exclude_defaults=True)

    def render_text(self) -> str:
        return render(self)

    def size(self) -> int:
        """Characters the answer costs: the larger of its text and its structured JSON."""
        return max(len(self.render_text()), len(json.dumps(self.structured(), ensure_ascii=False)))
