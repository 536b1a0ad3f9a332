"""bench/search_vs_peers.py end to end: all three sides, and a pruner side, on 600 real reviews."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]

# The shipped spaces compile a new XLA graph per trial (tens of seconds on 2 cores); this one
# trains without XLA, so that each side finishes several trials in its few seconds and the
# anytime curves have more than one point. tests/unit/test_search_vs_peers.py checks that the
# shipped spaces translate to Keras Tuner and Optuna.
SPACE = """\
study_name: smoke
sampler: {name: tpe, seed: 1, n_startup_trials: 2}
pruner: {name: median, n_startup_trials: 2, n_warmup_steps: 1}
fixed: {arch: gru, layers: 1, embedding_dim: 8, epochs: 2, patience: 1, jit_compile: false}
params:
  units: {type: int, low: 2, high: 8, log: true}
  pooling: {type: categorical, choices: [last, max]}
  bidirectional: {type: categorical, choices: [false, true]}
  learning_rate: {type: float, low: 1.0e-3, high: 3.0e-2, log: true}
"""


def test_short_mode_runs_every_side(real_data_path, tmp_path):
    space = tmp_path / "smoke.yaml"
    space.write_text(SPACE, encoding="utf-8")
    out = tmp_path / "report" / "search_vs_peers.md"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    command = [
        sys.executable,
        str(ROOT / "bench" / "search_vs_peers.py"),
        "--short",
        "--minutes",
        "0.3",
        "--max-reviews",
        "600",
        "--space",
        str(space),
        "--data",
        str(real_data_path),
        "--workdir",
        str(tmp_path / "work"),
        "--out",
        str(out),
        "--sides",
        "platform,keras_tuner,optuna,platform:hyperband",
    ]
    finished = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]

    results = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert set(results["sides"]) == {"platform", "keras_tuner", "optuna", "platform:hyperband"}
    for side, numbers in results["sides"].items():
        assert numbers["trials_finished"] >= 1, side
        assert 0.0 <= numbers["best_test_accuracy"] <= 1.0, side
        assert 0.0 <= numbers["best_val_accuracy"] <= 1.0, side
        assert numbers["curve"], side
        assert numbers["curve"][-1][1] == pytest.approx(numbers["best_val_accuracy"]), side
    # The pruner side ran the same space with Hyperband in place of the space's median pruner.
    assert "pruner median" in results["sides"]["platform"]["notes"]
    assert "pruner hyperband" in results["sides"]["platform:hyperband"]["notes"]
    assert results["settings"]["epochs"] == 2
    assert results["settings"]["train"] + results["settings"]["val"] == 600
    assert 0.0 <= results["baseline"]["test_accuracy"] <= 1.0
    assert results["baseline"]["budget"] == "neural"
    assert 0.0 <= results["baseline"]["nbsvm"]["test_accuracy"] <= 1.0
    report = out.read_text(encoding="utf-8")
    assert "NBSVM (uni+bigram" in report
    for name in (
        "rnn-tracking sweep",
        "Keras Tuner Hyperband",
        "plain Optuna",
        "rnn-tracking sweep (hyperband pruner)",
    ):
        assert name in report
    assert (out.parent / "img" / "search_vs_peers.png").stat().st_size > 0
