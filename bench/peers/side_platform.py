"""The platform's side: `rnn-tracking sweep` as a subprocess with its own store and journal."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from datetime import datetime
from typing import Any

from bench.peers.curves import optuna_trial_ends, side_result
from bench.peers.settings import GRACE_SECONDS, PLATFORM_TRIALS, ROOT
from bench.peers.sides import SideRun, best_optuna_trial


def run_platform(run: SideRun) -> dict[str, Any]:
    """Runs `rnn-tracking sweep` for the budget in its own store; reads journal and MLflow.

    It reads its space from `run.space_path`, which a pruner side has rewritten.
    """
    space_path, args, folder = run.space_path, run.args, run.folder
    import optuna
    from mlflow.tracking import MlflowClient
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    from rnn_tracking.sweep.space import read_space

    space = read_space(space_path, data=args.data)
    folder.mkdir(parents=True, exist_ok=True)
    journal = folder / "optuna.journal"
    tracking_uri = f"sqlite:///{folder / 'mlflow.db'}"
    env = dict(os.environ)
    for name in ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_ID"):
        env.pop(name, None)
    env["MLFLOW_TRACKING_URI"] = tracking_uri
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    budget = args.minutes * 60
    command = [
        sys.executable,
        "-m",
        "rnn_tracking",
        "sweep",
        "--space",
        str(space_path),
        "--n_trials",
        str(PLATFORM_TRIALS),
        "--timeout",
        str(max(1, math.ceil(budget))),
        "--data",
        args.data,
        "--storage",
        str(journal),
        "--experiment-name",
        "search-vs-peers",
    ]
    log = folder / "sweep.log"
    print("$", " ".join(command), flush=True)
    began = datetime.now()
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as out:
        finished = subprocess.run(
            command,
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=budget + GRACE_SECONDS,
        )
    wall = time.perf_counter() - started
    if finished.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise RuntimeError(f"rnn-tracking sweep exited {finished.returncode}:\n{tail}")
    storage = JournalStorage(JournalFileBackend(str(journal)))
    study = optuna.load_study(study_name=space.study_name, storage=storage)
    ends = optuna_trial_ends(study, began)
    best = best_optuna_trial(study, "platform", folder / "sweep.log")
    run = MlflowClient(tracking_uri=tracking_uri).get_run(best.user_attrs["mlflow_run_id"])
    states = [trial.state.name for trial in study.trials]
    return side_result(
        ends,
        wall_seconds=wall,
        best_value=best.value,
        best_test_accuracy=run.data.metrics["test_accuracy"],
        best_params=best.params,
        pruned=states.count("PRUNED"),
        failed=states.count("FAIL"),
        notes=f"sampler {space.sampler[0]} {space.sampler[1]}, pruner {space.pruner[0]} "
        f"{space.pruner[1]}; MLflow run per trial",
    )
