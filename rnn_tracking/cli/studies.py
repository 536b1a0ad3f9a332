"""The `sweep` command: one Optuna study (`rnn_tracking.sweep`), run or continued."""

from __future__ import annotations

import argparse
import sys

from rnn_tracking.cli.commands import EXIT_FAILED, EXIT_OK, PROGRAM, record_system_metrics
from rnn_tracking.cli.parser import UsageError, read_options
from rnn_tracking.options import SweepOptions


def command_sweep(args: argparse.Namespace) -> int:
    """Runs or continues a study and prints its best trial."""
    from rnn_tracking import sweep

    def echo(line: str) -> None:
        print(line, flush=True)

    try:
        options = read_options(args, SweepOptions)
        record_system_metrics(options.system_metrics)
        space = sweep.load_space(options.space, data=options.data, seed=options.seed)
        if options.workers > 1:
            outcome = sweep.run_workers(space, options, echo=echo)
        else:
            outcome = sweep.run_sweep(
                space,
                n_trials=options.n_trials,
                timeout=options.timeout or None,
                study_name=options.study_name,
                storage=options.storage,
                experiment_name=options.experiment_name,
                verbose=options.verbose,
                heartbeat_interval=options.heartbeat_interval,
                echo=echo,
                warm_start=sweep.read_warm_start(options),
            )
    except ValueError as error:
        raise UsageError(str(error)) from error
    tally, best = outcome.tally, outcome.best_trial
    best_text = (
        f"best {space.metric} {best.value:.4f} (trial {best.number}: {sweep.describe_params(best.params)})"
        if best
        else "no complete trial"
    )
    if outcome.pareto_trials:
        numbers = ", ".join(str(trial.number) for trial in outcome.pareto_trials)
        best_text = f"Pareto front: trials {numbers} (trials.csv, plots/pareto_front.png)"
    print(
        f"study {outcome.study_name!r}: {tally.done} of {outcome.n_trials} trials done "
        f"({tally.complete} complete, {tally.pruned} pruned, {tally.failed - tally.retried} failed); "
        f"{best_text}; parent run {outcome.parent_run_id}"
    )
    for failure in outcome.failed_workers:
        print(f"{PROGRAM}: error: {failure}", file=sys.stderr)
    return EXIT_FAILED if outcome.failed_workers else EXIT_OK
