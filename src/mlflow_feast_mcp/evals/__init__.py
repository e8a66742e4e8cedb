"""Scripted agent evals: questions about the demo world, true answers computed from MLflow and Feast
directly, and three ways of answering them through the server (scripted tool plans, replayed
transcripts, an LLM agent loop), all graded by one grader. See README.md beside this file."""

from __future__ import annotations

from .cases import NOT_FOUND, Case, load_cases
from .grader import Grade, grade

__all__ = ["NOT_FOUND", "Case", "Grade", "grade", "load_cases"]
