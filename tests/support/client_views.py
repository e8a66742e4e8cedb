"""What a text-reading and a structured-reading client see of the same answer: the facts the text
states (ids, numbers, names) must all be in the structured content too."""

from __future__ import annotations

import json
import re
from typing import Any

# tokens that are data: run ids, LoggedModel ids, numbers with a fraction, snake_case names
FACT = re.compile(
    r"\bm-[0-9a-f]{32}\b|\b[0-9a-f]{32}\b|-?\d+\.\d+(?:e-?\d+)?\b|\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b"
)
# the server's own vocabulary in its hints (tool and argument names), not facts about the store
VOCABULARY = re.compile(
    r"^(mlflow|feast|check|validate|predictions)_|^(response_format|page_token|run_id|page_size)$"
)

MODEL, VIEW = "game_winner_model", "game_features"
DEMO_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("mlflow_list_experiments", {}),
    ("mlflow_describe_experiment", {}),
    ("mlflow_search_runs", {"page_size": 5}),
    ("mlflow_get_run", {"run_id": "latest"}),
    ("mlflow_get_run_features", {"run_id": "latest"}),
    ("mlflow_compare_runs", {"run_ids": [f"{MODEL}/Production", f"{MODEL}/Staging"]}),
    ("mlflow_get_metric_history", {"metric_keys": ["train_logloss", "val_logloss"], "last_runs": 2}),
    ("mlflow_search_logged_models", {}),
    ("mlflow_list_artifacts", {"run_id": "latest"}),
    ("mlflow_read_artifact", {"run_id": "latest", "path": "training_artifacts/features.json"}),
    ("mlflow_list_registered_models", {}),
    ("mlflow_get_registered_model", {}),
    ("mlflow_get_model_version", {"version_ref": "Production"}),
    ("mlflow_get_model_version", {"version_ref": "@champion"}),
    ("feast_list_projects", {}),
    ("feast_list_feature_views", {}),
    ("feast_describe_feature_view", {"name": VIEW}),
    ("feast_list_entities", {}),
    ("feast_list_data_sources", {}),
    ("feast_list_feature_services", {}),
    ("feast_get_feature_view_history", {"name": VIEW}),
    ("check_feature_alignment", {"run_or_model": f"{MODEL}/Production"}),
    ("validate_training_run", {}),
    ("predictions_spot_check", {}),
]


def missing_facts(text: str, structured: dict[str, Any] | None) -> list[str]:
    """Fact tokens of `text` that the structured content does not hold (as a value or a key)."""
    if structured is None:
        return []
    blob = json.dumps(structured, ensure_ascii=False)
    return sorted({t for t in FACT.findall(text) if not VOCABULARY.match(t) and t not in blob})


def empty_fields(structured: Any, path: str = "$") -> list[str]:
    """Paths of empty lists, maps and strings in the structured content: a field with nothing to say
    is left out (an empty result is told by a count, not by `[]`)."""
    if isinstance(structured, dict):
        found = [] if structured or path == "$" else [path]
        return found + [p for k, v in structured.items() for p in empty_fields(v, f"{path}.{k}")]
    if isinstance(structured, list):
        found = [] if structured else [path]
        return found + [p for i, v in enumerate(structured) for p in empty_fields(v, f"{path}[{i}]")]
    return [path] if structured == "" else []
