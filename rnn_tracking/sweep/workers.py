"""Several local worker processes on one study: `sweep --workers N`.

This process opens the study once: it checks the data, prepares the stores, and loads or
creates the study and its parent run (under `mlflow run`, it alone handles the run that
`mlflow run` made). Then it starts N children, `python -m rnn_tracking sweep ... --workers 1`
on that study and storage, which only join it. Their progress lines are printed as they
come, each prefixed with its worker (`[w2] [3/30] trial 2 complete ...`), their stderr
likewise; the last line is the study's summary.

Ctrl-C or SIGTERM here sends SIGTERM to every child. Each ends its running trial's run
KILLED and fails the trial, queued again, so the same command later retries it; this
process waits for them, ends the parent run KILLED and raises KeyboardInterrupt. A second
Ctrl-C kills the children at once; their trials are then retried after the heartbeat grace
period. A child that fails is named, with its last error line, in the outcome.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

from rnn_tracking import runs
from rnn_tracking.options import SweepOptions
from rnn_tracking.sweep import parent_run
from rnn_tracking.sweep.opening import OpenedStudy, check_sweep_options, open_study
from rnn_tracking.sweep.session import SweepOutcome
from rnn_tracking.sweep.space import SearchSpace
from rnn_tracking.sweep.storage import redact_storage
from rnn_tracking.sweep.study import best_trial
from rnn_tracking.sweep.trials import tally_trials

# Lines of a child that this process says once for all of them: the data, the study and
# its summary, waiting for the other workers, skipped plots.
OWN_LINES = ("data ", "study ", "waiting for ", "plots skipped")
# Linux's prctl option that sends a child a signal when its parent dies.
PR_SET_PDEATHSIG = 1


class WorkersFailed(RuntimeError):
    """One or more child workers exited with an error; the message names each."""


@dataclass
class Worker:
    """One child process, its number (1-based) and the last line it wrote to stderr."""

    number: int
    process: subprocess.Popen
    last_error: str = ""
    threads: list[threading.Thread] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"w{self.number}"

    def describe_failure(self) -> str | None:
        """Says how this worker failed (`w2 exited with code 1: ...`), or None if it did not."""
        code = self.process.returncode
        if code == 0:
            return None
        if code is not None and code < 0:
            how = f"was killed by {signal.Signals(-code).name}"
        else:
            how = f"exited with code {code}"
        return f"worker {self.label} {how}" + (f": {self.last_error}" if self.last_error else "")


def read_warm_start(options: SweepOptions) -> tuple[str, int] | None:
    """Returns the sweep's warm start as (study name, top k), or None without one."""
    return (options.warm_start, options.warm_start_top) if options.warm_start else None


def count_usable_cpus() -> int:
    """Returns the CPUs this process may run on: its affinity mask where the OS has one."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def check_worker_count(workers: int, cpus: int) -> None:
    """Raises ValueError, in one line naming the bound, for more workers than CPUs.

    Refused rather than capped: each worker is a whole TensorFlow process training one trial,
    so more workers than cores only share the cores and multiply the memory (64 workers on 2
    cores took 14 GB before any trial started), and silently running fewer than asked would
    change what the command means. Nothing has started when this is raised.
    """
    if workers > cpus:
        raise ValueError(
            f"workers: got {workers}; this machine has {cpus} usable CPUs, "
            f"so valid values are 1 to {cpus}"
        )


def cap_worker_count(workers: int, trials_left: int, warn: Callable[[str], None]) -> int:
    """Returns how many workers to start: at most one per trial still to run (at least 1).

    Capped with a warning rather than refused: a continued study has fewer trials left each
    time, and the same command (the documented way to continue it) must keep working.
    """
    if workers <= max(trials_left, 1):
        return workers
    capped = max(trials_left, 1)
    warn(f"workers: starting {capped} of {workers}, one per trial still to run")
    return capped


def build_child_command(options: SweepOptions, study_name: str, storage: str) -> list[str]:
    """Returns the argv of one child: this sweep's options on the resolved study, one worker.

    Every option set is passed on as `--name value`, the spelling MLproject uses too, but
    the warm start: this process queued its configs before the children start.
    """
    values = dataclasses.asdict(options) | {
        "study_name": study_name,
        "storage": storage,
        "workers": 1,
        "warm_start": None,
    }
    command = [sys.executable, "-m", "rnn_tracking", "sweep"]
    for spec in dataclasses.fields(options):
        value = values[spec.name]
        if value is not None:
            command += [f"--{spec.name}", str(value)]
    return command


def build_child_environment(tracking_uri: str) -> dict[str, str]:
    """Returns the children's environment: this one, on this tracking store, without
    `mlflow run`'s run (this process handled it; children only join the study)."""
    environment = dict(os.environ)
    environment.pop(runs.LAUNCHER_RUN_ENV_VAR, None)
    environment["MLFLOW_TRACKING_URI"] = tracking_uri
    environment["PYTHONUNBUFFERED"] = "1"
    return environment


def make_stop_with_parent() -> Callable[[], None] | None:
    """Returns what a child runs before its program so that it receives SIGTERM when its
    parent dies (Linux's prctl); None where that is not available.

    Children run in their own session, so that a terminal's Ctrl-C reaches only the parent,
    which stops them once; without this, a parent killed outright would leave them running.
    The C library is found here, before the fork, so the child only makes one call.
    """
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def read_lines(worker: Worker, stream: IO[str], name: str, lines: queue.Queue) -> None:
    """Puts each line of a child's stream on `lines` until the stream ends."""
    for line in stream:
        lines.put((worker, name, line.rstrip("\n")))


def start_workers(
    count: int, command: list[str], environment: dict[str, str], lines: queue.Queue
) -> list[Worker]:
    """Starts `count` children running `command`, with threads putting their lines on `lines`.

    The threads start after every child, so no thread runs while a child is forked.
    """
    workers = []
    stop_with_parent = make_stop_with_parent()
    for number in range(1, count + 1):
        process = subprocess.Popen(
            command,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
            start_new_session=True,
            preexec_fn=stop_with_parent,
        )
        workers.append(Worker(number, process))
    for worker in workers:
        for name in ("stdout", "stderr"):
            stream = getattr(worker.process, name)
            thread = threading.Thread(
                target=read_lines, args=(worker, stream, name, lines), daemon=True
            )
            thread.start()
            worker.threads.append(thread)
    return workers


def pump_output(
    workers: list[Worker],
    lines: queue.Queue,
    echo: Callable[[str], None],
    warn: Callable[[str], None],
) -> None:
    """Prints the children's lines until every stream has ended and every line is printed.

    A line is printed at most once; a KeyboardInterrupt meanwhile may drop the one in hand,
    and a later call goes on with the rest.
    """
    readers = [thread for worker in workers for thread in worker.threads]
    while any(thread.is_alive() for thread in readers) or not lines.empty():
        try:
            worker, name, line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        if name == "stderr":
            if line.strip():
                worker.last_error = line.strip()
            warn(f"[{worker.label}] {line}")
        elif not line.startswith(OWN_LINES):
            echo(f"[{worker.label}] {line}")


def signal_workers(workers: list[Worker], signum: int) -> None:
    """Sends `signum` to every child still running."""
    for worker in workers:
        # Popen skips a child already reaped, and one that exits meanwhile.
        worker.process.send_signal(signum)


def run_workers(
    space: SearchSpace,
    options: SweepOptions,
    *,
    echo: Callable[[str], None] = print,
    warn: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
) -> SweepOutcome:
    """Runs `options.workers` child workers on one study until they stop; see the module doc.

    Returns the study's outcome; `failed_workers` names each child that failed. Raises
    ValueError before anything starts, as `run_sweep` does, and KeyboardInterrupt after the
    children stopped when this process was interrupted.
    """
    timeout = options.timeout or None
    check_sweep_options(options.n_trials, timeout, options.heartbeat_interval)
    check_worker_count(options.workers, count_usable_cpus())
    opened = open_study(
        space,
        study_name=options.study_name,
        storage=options.storage,
        experiment_name=options.experiment_name,
        heartbeat_interval=options.heartbeat_interval,
        echo=echo,
        warm_start=read_warm_start(options),
    )
    study = opened.study
    before = tally_trials(study.get_trials(deepcopy=False))
    worker_count = cap_worker_count(options.workers, options.n_trials - before.done, warn)
    echo(
        f"study {opened.name!r} in {redact_storage(opened.location)}: {before.done} of "
        f"{options.n_trials} trials done; {worker_count} workers optimizing {space.metric} "
        f"({space.direction}) over {', '.join(spec.name for spec in space.params)}"
    )
    command = build_child_command(options, opened.name, opened.location)
    environment = build_child_environment(runs.prepare_tracking_store())
    lines: queue.Queue = queue.Queue()
    workers: list[Worker] = []
    interrupted: KeyboardInterrupt | None = None
    try:
        workers = start_workers(worker_count, command, environment, lines)
        echo(
            "workers: "
            + ", ".join(f"{worker.label} pid {worker.process.pid}" for worker in workers)
        )
        interrupts = 0
        while True:
            try:
                pump_output(workers, lines, echo, warn)
                break
            except KeyboardInterrupt as error:
                interrupted = interrupted or error
                interrupts += 1
                if interrupts == 1:
                    echo(
                        "stopping the workers: each ends its running trial KILLED and queues "
                        "it again (Ctrl-C again kills them at once)"
                    )
                    signal_workers(workers, signal.SIGTERM)
                    # The CLI ignores stop signals after the first while runs end; here a
                    # second Ctrl-C must reach this loop, to kill the workers at once.
                    signal.signal(signal.SIGINT, signal.default_int_handler)
                else:
                    echo("killing the workers; their trials are retried after the grace period")
                    signal_workers(workers, signal.SIGKILL)
        for worker in workers:
            worker.process.wait()
    except BaseException as error:
        # Starting failed, or this process is going down: no child is left behind.
        signal_workers(workers, signal.SIGKILL)
        for worker in workers:
            worker.process.wait()
        status = runs.KILLED if isinstance(error, KeyboardInterrupt) else runs.FAILED
        parent_run.end_study_parent(status, error)
        raise
    return finish_workers(options, opened, workers, interrupted, echo)


def finish_workers(
    options: SweepOptions,
    opened: OpenedStudy,
    workers: list[Worker],
    interrupted: KeyboardInterrupt | None,
    echo: Callable[[str], None],
) -> SweepOutcome:
    """Ends the parent run by what the children did and returns the study's outcome.

    KILLED (and KeyboardInterrupt raised again) after an interruption; FAILED, naming the
    workers, when one failed; else FINISHED. The run stays RUNNING while workers outside
    this command still run trials of the study.
    """
    study = opened.study
    tally = tally_trials(study.get_trials(deepcopy=False))
    still_running = tally.running > 0
    if interrupted is not None:
        echo(
            f"stopped {len(workers)} workers; study {opened.name!r}: {tally.done} of "
            f"{options.n_trials} trials done; the same command continues it"
        )
        parent_run.end_study_parent(runs.KILLED, interrupted, still_running=still_running)
        raise interrupted
    failures = tuple(
        failure for failure in (worker.describe_failure() for worker in workers) if failure
    )
    if failures:
        error = WorkersFailed("; ".join(failures))
        parent_run.end_study_parent(runs.FAILED, error, still_running=still_running)
    else:
        parent_run.end_study_parent(runs.FINISHED, still_running=still_running)
    return SweepOutcome(
        study_name=opened.name,
        storage=redact_storage(opened.location),
        parent_run_id=opened.parent_run_id,
        tally=tally,
        n_trials=options.n_trials,
        best_trial=best_trial(study),
        stopped_by="n_trials" if tally.done >= options.n_trials else "timeout",
        failed_workers=failures,
    )
