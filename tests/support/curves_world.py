"""Training curves with something to say, logged through MlflowClient into their own experiment
(`curve_lab`) on the session's seed server: a run that overfits (val_loss and val_accuracy best at
step 30, then worse, while train_loss keeps falling), one still improving at its last step, one
whose loss turns NaN and infinite, one whose train/validation gap widens, a clean converged run,
and a sweep whose children vary `learning_rate` and `algorithm` (xgboost, lightgbm, sklearn_gbm),
one child failed and one killed. No registered models (the seed world owns the registry)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

EXPERIMENT = "curve_lab"
NOTE = "Curve lab: gradient-boosting sweeps and the curves that go wrong."
# child -> (algorithm, learning_rate, status)
SWEEP = {
    "sweep_0": ("xgboost", 0.01, "FINISHED"),
    "sweep_1": ("lightgbm", 0.03, "FINISHED"),
    "sweep_2": ("xgboost", 0.1, "FINISHED"),
    "sweep_3": ("sklearn_gbm", 0.3, "FAILED"),
    "sweep_4": ("xgboost", 0.05, "KILLED"),
    "sweep_5": ("lightgbm", 0.2, "FINISHED"),
}
OVERFIT_BEST_STEP = 30
NAN_FROM_STEP = 30
Curve = Callable[[int], float]


@dataclass
class CurvesWorld:
    uri: str
    experiment_id: str
    runs: dict[str, str] = field(default_factory=dict)  # run name -> run id
    algorithms: dict[str, str] = field(default_factory=dict)  # run name -> algorithm param

    @property
    def xgboost_runs(self) -> list[str]:
        return sorted(name for name, algo in self.algorithms.items() if algo == "xgboost")


def _overfit_val(s: int) -> float:
    return 0.30 + 0.35 * math.exp(-s / 10) + 0.002 * max(0, s - OVERFIT_BEST_STEP)


def _overfit_acc(s: int) -> float:
    return 0.60 + 0.20 * (1 - math.exp(-s / 10)) - 0.001 * max(0, s - OVERFIT_BEST_STEP)


def _nan_loss(s: int) -> float:
    if s == NAN_FROM_STEP + 1:
        return math.inf
    return math.nan if s >= NAN_FROM_STEP else 0.7 * math.exp(-s / 15) + 0.1


CURVES: dict[str, tuple[int, dict[str, Curve]]] = {  # run -> (steps, metric -> value at step)
    "overfit_xgb": (
        100,
        {
            "train_loss": lambda s: 0.65 * math.exp(-s / 25) + 0.05,
            "val_loss": _overfit_val,
            "val_accuracy": _overfit_acc,
        },
    ),
    "still_improving": (
        50,
        {"train_loss": lambda s: 0.70 - 0.004 * s, "val_loss": lambda s: 0.72 - 0.0038 * s},
    ),
    "nan_blowup": (40, {"train_loss": _nan_loss}),
    "gap_widens": (
        100,
        {"train_loss": lambda s: 0.70 - 0.0065 * s, "val_loss": lambda s: 0.50 + 0.2 * math.exp(-s / 5)},
    ),
    "clean_converged": (
        60,
        {
            "train_loss": lambda s: 0.30 + 0.40 * math.exp(-s / 8),
            "val_loss": lambda s: 0.33 + 0.40 * math.exp(-s / 8),
        },
    ),
}
PARAMS = {
    "overfit_xgb": {"algorithm": "xgboost", "learning_rate": 0.3, "max_depth": 8},
    "still_improving": {"algorithm": "logistic_regression", "learning_rate": 0.001},
    "nan_blowup": {"algorithm": "mlp", "learning_rate": 1.0},
    "gap_widens": {"algorithm": "lightgbm", "learning_rate": 0.1, "max_depth": 12},
    "clean_converged": {"algorithm": "xgboost", "learning_rate": 0.05, "max_depth": 4},
}


def log_curves_world(uri: str) -> CurvesWorld:
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    exp_id = client.create_experiment(EXPERIMENT, tags={"team": "forecasting", "mlflow.note.content": NOTE})
    world = CurvesWorld(uri=uri, experiment_id=exp_id)

    def run(name: str, params: dict, tags: dict, status: str = "FINISHED") -> str:
        rid = client.create_run(exp_id, run_name=name, tags=tags).info.run_id
        client.log_batch(rid, params=[Param(k, str(v)) for k, v in params.items()])
        world.runs[name] = rid
        world.algorithms[name] = str(params.get("algorithm"))
        return rid

    parent = run("lr_sweep", {"search": "grid", "n_trials": len(SWEEP)}, {"stage": "sweep"})
    client.set_terminated(parent, "FINISHED")
    for name, (algorithm, lr, status) in SWEEP.items():
        rid = run(name, {"algorithm": algorithm, "learning_rate": lr}, {"mlflow.parentRunId": parent})
        now = int(time.time() * 1000)
        loss = [
            Metric("val_loss", 0.7 - (0.2 + lr) * (1 - math.exp(-s / 3)), now + s * 1000, s)
            for s in range(10)
        ]
        client.log_batch(rid, metrics=[*loss, Metric("val_auc", 0.7 + lr, now + 10_000, 10)])
        client.set_terminated(rid, status)
        time.sleep(0.01)
    for name, (steps, curves) in CURVES.items():
        rid = run(name, PARAMS[name], {"stage": "candidate"})
        now = int(time.time() * 1000)
        points = [Metric(k, f(s), now + s * 1000, s) for s in range(steps) for k, f in curves.items()]
        for i in range(0, len(points), 1000):
            client.log_batch(rid, metrics=points[i : i + 1000])
        client.set_terminated(rid, "FINISHED")
        time.sleep(0.01)
    # The newest run is still going: two points so far, no end time.
    rid = run("still_running", {"algorithm": "xgboost", "learning_rate": 0.02}, {"stage": "candidate"})
    now = int(time.time() * 1000)
    client.log_batch(rid, metrics=[Metric("train_loss", 0.7 - 0.01 * s, now + s, s) for s in range(2)])
    return world
