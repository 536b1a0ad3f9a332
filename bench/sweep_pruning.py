"""Sweeps: pruning against no pruning, and the study's best trial against the tutorial.

One command runs, on the same data, the same machine and in one run:

- the same study twice through `rnn_tracking.sweep.run_sweep` (the `sweep` command's code,
  MLflow tracking on): once with the space file's pruner (median by default) and once with
  none. Both use the same sampler seed, so they begin with the same trials. It compares the
  epochs spent (every trial's epochs, pruned or early-stopped) and the best validation
  accuracy of each;
- the tutorial's LSTM (the `TrainConfig` defaults: LSTM(8), RMSprop(1e-4), up to 100 epochs,
  EarlyStopping(patience=3)), against the pruned study's best trial: validation and test
  accuracy, and the wall time to first reach the tutorial's best validation accuracy
  (the sum of the best trial's epoch times up to that epoch) against the tutorial's whole
  training time.

The data are the full aclImdb corpus with the tutorial's num_words=500 and maxlen=100
unless --max-reviews caps them. It prints a Markdown table and writes it, with the raw
numbers as JSON, to --out. Small, to check that it works (minutes):

    .venv/bin/python bench/sweep_pruning.py --trials 6 --epochs 4 --max-reviews 1000 --tutorial-epochs 8

The full run (hours on 2 CPU cores; see docs/sweeps.md):

    .venv/bin/python bench/sweep_pruning.py --trials 30 --epochs 20 --out docs/sweeps-bench.md
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "aclImdb_labeled.tar.gz"
TUTORIAL = "tutorial LSTM(8), RMSprop(1e-4)"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--space",
        default=str(ROOT / "sweeps" / "lstm.yaml"),
        help="Space file (default: sweeps/lstm.yaml).",
    )
    parser.add_argument(
        "--data",
        default=str(DEFAULT_DATA),
        help="Data source (default: ../shared/data's aclImdb tar).",
    )
    parser.add_argument("--trials", type=int, default=30, help="Trials per study (default: 30).")
    parser.add_argument(
        "--epochs", type=int, default=20, help="Upper bound on each trial's epochs (default: 20)."
    )
    parser.add_argument(
        "--max-reviews", type=int, default=0, help="Reviews per split, 0 for all (default: 0)."
    )
    parser.add_argument(
        "--tutorial-epochs",
        type=int,
        default=100,
        help="Upper bound on the tutorial's epochs (default: 100).",
    )
    parser.add_argument("--skip-tutorial", action="store_true", help="Compare pruning only.")
    parser.add_argument(
        "--workdir",
        default="",
        help="Folder of the MLflow store and Optuna journal (default: a temporary one).",
    )
    parser.add_argument(
        "--out",
        default="",
        help="Write the Markdown table here, and the numbers beside it as .json.",
    )
    return parser.parse_args(argv)


def study_numbers(study, client) -> dict:
    """Epochs spent, trial counts and the best trial's numbers, from Optuna and MLflow."""
    trials = study.trials
    finished = [trial for trial in trials if trial.state.is_finished()]
    best = study.best_trial
    run_id = best.user_attrs["mlflow_run_id"]
    run = client.get_run(run_id)
    seconds = [
        metric.value
        for metric in sorted(
            client.get_metric_history(run_id, "epoch_seconds"), key=lambda m: m.step
        )
    ]
    accuracy = [
        metric.value
        for metric in sorted(
            client.get_metric_history(run_id, "val_accuracy"), key=lambda m: m.step
        )
    ]
    return {
        "trials": len(finished),
        "pruned": sum(trial.state.name == "PRUNED" for trial in finished),
        "epochs": sum(len(trial.intermediate_values) for trial in finished),
        "best_value": study.best_value,
        "best_trial": best.number,
        "best_params": best.params,
        "best_test_accuracy": run.data.metrics["test_accuracy"],
        "best_epoch_seconds": seconds,
        "best_val_accuracy_curve": accuracy,
        "study_seconds": sum(
            trial.duration.total_seconds() for trial in finished if trial.duration
        ),
    }


def seconds_to_reach(target: float, accuracy: list[float], seconds: list[float]) -> float | None:
    """Wall time (summed epoch times) until validation accuracy first reaches `target`."""
    spent = 0.0
    for value, epoch_seconds in zip(accuracy, seconds, strict=False):
        spent += epoch_seconds
        if value >= target:
            return spent
    return None


def run_studies(args: argparse.Namespace, workdir: Path) -> dict:
    """Runs the study with the file's pruner and without; returns both studies' numbers."""
    import mlflow
    import optuna
    from mlflow.tracking import MlflowClient

    from rnn_tracking import sweep

    mlflow.set_tracking_uri(f"sqlite:///{workdir / 'mlflow.db'}")
    base = sweep.load_space(args.space, data=args.data)
    fixed = {**base.fixed, "epochs": args.epochs, "max_reviews": args.max_reviews}
    base = dataclasses.replace(base, fixed=fixed)
    results = {}
    for label, pruner in (("pruned", base.pruner), ("unpruned", ("none", {}))):
        space = dataclasses.replace(base, pruner=pruner)
        name = f"bench-{label}"
        started = time.perf_counter()
        sweep.run_sweep(
            space,
            n_trials=args.trials,
            study_name=name,
            storage=str(workdir / "optuna.journal"),
            experiment_name="sweep-bench",
            echo=lambda line, label=label: print(f"{label}: {line}", flush=True),
        )
        wall = time.perf_counter() - started
        storage = optuna.storages.JournalStorage(
            optuna.storages.journal.JournalFileBackend(str(workdir / "optuna.journal"))
        )
        study = optuna.load_study(study_name=name, storage=storage)
        results[label] = study_numbers(study, MlflowClient()) | {
            "wall_seconds": wall,
            "pruner": sweep.describe_pruner(space),
        }
    results["space"] = str(base.path)
    results["fixed"] = {key: str(value) for key, value in fixed.items()}
    return results


def run_tutorial(args: argparse.Namespace) -> dict:
    """Trains the tutorial's LSTM (the config defaults) on the same data; no tracking."""
    from rnn_tracking.config import TrainConfig
    from rnn_tracking.data import load_splits
    from rnn_tracking.train import train_model

    config = TrainConfig(data=args.data, max_reviews=args.max_reviews, epochs=args.tutorial_epochs)
    splits = load_splits(config)
    with tempfile.TemporaryDirectory() as scratch:
        result = train_model(config, splits, Path(scratch) / "best.keras")
    return {
        "best_val_accuracy": result.best_val_accuracy,
        "test_accuracy": result.test_accuracy,
        "epochs_run": result.epochs_run,
        "best_epoch": result.best_epoch,
        "train_seconds": result.train_seconds,
    }


def render(results: dict, args: argparse.Namespace) -> str:
    """Returns the Markdown report: the pruning table, then the tutorial table."""
    pruned, unpruned = results["pruned"], results["unpruned"]
    saved = 1 - pruned["epochs"] / unpruned["epochs"]
    gap = pruned["best_value"] - unpruned["best_value"]
    lines = [
        f"Command: `{' '.join(['.venv/bin/python', 'bench/sweep_pruning.py', *sys.argv[1:]])}`",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, no GPU; "
        f"space {Path(results['space']).name} with epochs={args.epochs}, max_reviews={args.max_reviews} "
        f"(0 = all 25,000 + 25,000), {args.trials} trials per study, same sampler seed.",
        "",
        "| study | pruner | trials (pruned) | epochs spent | best val_accuracy | best trial | study time |",
        "|---|---|---:|---:|---:|---|---:|",
    ]
    for label, numbers in (("with pruning", pruned), ("without pruning", unpruned)):
        params = ", ".join(
            f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
            for k, v in numbers["best_params"].items()
        )
        lines.append(
            f"| {label} | {numbers['pruner']} | {numbers['trials']} ({numbers['pruned']}) | {numbers['epochs']} | "
            f"{numbers['best_value']:.4f} | {numbers['best_trial']}: {params} | {numbers['wall_seconds'] / 60:.1f} min |"
        )
    lines += [
        "",
        f"Pruning saved **{saved:.0%}** of the epochs (target: at least 40%); its best validation "
        f"accuracy differs from the unpruned study's by **{gap:+.4f}** (target: within 0.005).",
    ]
    tutorial = results.get("tutorial")
    if tutorial:
        reach = seconds_to_reach(
            tutorial["best_val_accuracy"],
            pruned["best_val_accuracy_curve"],
            pruned["best_epoch_seconds"],
        )
        share = (
            f"{reach:.0f} s = {reach / tutorial['train_seconds']:.1%} of the tutorial's time"
            if reach is not None
            else "never"
        )
        lines += [
            "",
            "| model | val_accuracy | test_accuracy | epochs | training time |",
            "|---|---:|---:|---:|---:|",
            f"| {TUTORIAL} | {tutorial['best_val_accuracy']:.4f} | {tutorial['test_accuracy']:.4f} | "
            f"{tutorial['epochs_run']} | {tutorial['train_seconds']:.0f} s |",
            f"| study's best trial ({pruned['best_trial']}) | {pruned['best_value']:.4f} | {pruned['best_test_accuracy']:.4f} | "
            f"{len(pruned['best_epoch_seconds'])} | {sum(pruned['best_epoch_seconds']):.0f} s |",
            "",
            f"The best trial first reached the tutorial's best validation accuracy "
            f"({tutorial['best_val_accuracy']:.4f}) after **{share}** (target: at most 10%); its "
            f"test accuracy is **{pruned['best_test_accuracy']:.4f}** (target: at least 0.83).",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(args.workdir or scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        results = run_studies(args, workdir)
    if not args.skip_tutorial:
        results["tutorial"] = run_tutorial(args)
    results["total_seconds"] = time.perf_counter() - started
    report = render(results, args)
    print(report)
    if args.out:
        out = Path(args.out)
        out.write_text(report, encoding="utf-8")
        out.with_suffix(".json").write_text(
            json.dumps(results, indent=2, default=str), encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
