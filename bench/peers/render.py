"""The report: the Markdown table, the comparison with the platform, and the anytime PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.peers.curves import best_at, seconds_to_reach
from bench.peers.settings import side_label


def fmt(value: float | None, digits: int = 4) -> str:
    """A number with `digits` decimals, or `-` for None."""
    return "-" if value is None else f"{value:.{digits}f}"


def render(results: dict[str, Any]) -> str:
    """Returns the Markdown report: settings, one row per side, the baseline, the ratios."""
    settings, sides = results["settings"], results["sides"]
    marks = settings["marks_minutes"]
    header = [
        "side",
        "best val_accuracy",
        "its test_accuracy",
        "trials finished (pruned, failed)",
        *[f"best val @ {m:g} min" for m in marks],
        "wall time",
    ]
    lines = [
        f"Command: `{settings['command']}`",
        "",
        f"Machine: {settings['machine']}. Space `{settings['space']}` ({settings['params']} "
        f"parameters; epochs <= {settings['epochs']}); data {settings['train']} train, "
        f"{settings['val']} validation, {settings['test']} test reviews; "
        f"**{settings['minutes']:g} minutes per side**, one side after the other.",
        "",
        "| " + " | ".join(header) + " |",
        "|---|" + "---:|" * (len(header) - 1),
    ]
    for side, numbers in sides.items():
        pruned = "-" if numbers["trials_pruned"] is None else numbers["trials_pruned"]
        row = [
            side_label(side),
            fmt(numbers["best_val_accuracy"]),
            fmt(numbers["best_test_accuracy"]),
            f"{numbers['trials_finished']} ({pruned}, {numbers['trials_failed']})",
            *[fmt(best_at(numbers["curve"], m * 60)) for m in marks],
            f"{numbers['wall_seconds'] / 60:.1f} min",
        ]
        lines.append("| " + " | ".join(row) + " |")
    baseline = results.get("baseline")
    if baseline:
        at = (
            f"num_words={baseline['num_words']}, maxlen={baseline['maxlen']}"
            if baseline["budget"] == "neural"
            else "the full text"
        )
        lines += [
            "",
            f"Reference: TF-IDF + logistic regression at {at}, same splits: validation "
            f"{baseline['best_val_accuracy']:.4f}, **test {baseline['test_accuracy']:.4f}** "
            f"(C={baseline['best_c']:g}, {baseline['train_seconds']:.0f} s).",
        ]
        nbsvm = baseline.get("nbsvm")
        if nbsvm:
            lines.append(
                f"NBSVM (uni+bigram NB log-count ratios, logistic regression), same splits: "
                f"validation {nbsvm['best_val_accuracy']:.4f}, **test {nbsvm['test_accuracy']:.4f}** "
                f"(C={nbsvm['best_c']:g}, {nbsvm['train_seconds']:.0f} s)."
            )
    # The first platform side is the reference: the plain one, or the first pruner's.
    reference = next((side for side in sides if side.partition(":")[0] == "platform"), None)
    platform_side = sides.get(reference) if reference else None
    others = [side for side, numbers in sides.items() if side != reference and numbers["curve"]]
    if platform_side and platform_side["curve"] and others:
        name = "the platform" if reference == "platform" else side_label(reference)
        lines += ["", f"Against {name}:", ""]
        for side in others:
            numbers = sides[side]
            target = numbers["best_val_accuracy"]
            own = seconds_to_reach(numbers["curve"], target)
            ours = seconds_to_reach(platform_side["curve"], target)
            reach = (
                f"{name} reached that side's best ({target:.4f}) after {ours / 60:.1f} min, "
                f"against {own / 60:.1f} min for {side_label(side)} ({ours / own:.2f}x the time)"
                if ours is not None and own
                else f"{name} never reached that side's best ({target:.4f})"
            )
            lines.append(
                f"- {side_label(side)}: best validation accuracy "
                f"{platform_side['best_val_accuracy'] - target:+.4f} and test accuracy "
                f"{platform_side['best_test_accuracy'] - numbers['best_test_accuracy']:+.4f} "
                f"for {name}; {reach}; trials finished "
                f"{platform_side['trials_finished']} against {numbers['trials_finished']}."
            )
    lines += ["", "Best trials:", ""]
    for side, numbers in sides.items():
        params = ", ".join(
            f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
            for k, v in numbers["best_params"].items()
        )
        lines.append(f"- {side_label(side)}: {params}. {numbers['notes']}.")
    if settings.get("image"):
        lines += ["", f"![best validation accuracy so far, per side]({settings['image']})"]
    return "\n".join(lines) + "\n"


def plot_curves(results: dict[str, Any], path: Path) -> None:
    """Writes the anytime curves (best validation accuracy so far against minutes) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    for side, numbers in results["sides"].items():
        curve = numbers["curve"]
        if not curve:
            continue
        x = [seconds / 60 for seconds, _ in curve]
        y = [value for _, value in curve]
        end = max(numbers["wall_seconds"] / 60, x[-1])
        axes.step([*x, end], [*y, y[-1]], where="post", label=side_label(side))
        axes.plot(x, y, "o", markersize=3, color=axes.lines[-1].get_color())
    baseline = results.get("baseline")
    if baseline:
        axes.axhline(
            baseline["best_val_accuracy"],
            color="grey",
            linestyle="--",
            label=f"TF-IDF + logistic regression ({baseline['budget']}), validation",
        )
        if baseline.get("nbsvm"):
            axes.axhline(
                baseline["nbsvm"]["best_val_accuracy"],
                color="grey",
                linestyle=":",
                label=f"NBSVM ({baseline['budget']}), validation",
            )
    axes.axvline(results["settings"]["minutes"], color="black", linewidth=0.8, linestyle=":")
    axes.set_xlabel("minutes since the side started")
    axes.set_ylabel("best val_accuracy so far")
    axes.set_title(f"{Path(results['settings']['space']).name}: anytime curves")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
