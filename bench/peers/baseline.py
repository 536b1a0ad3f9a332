"""The references: TF-IDF + logistic regression and NBSVM on the sides' splits."""

from __future__ import annotations

from typing import Any


def run_baseline(space: Any) -> dict[str, Any]:
    """Fits both linear baselines on the same splits: at the space's budget, else on full text.

    TF-IDF + logistic regression's numbers are the dict's own; NBSVM's are under `nbsvm`.
    """
    from rnn_tracking.baseline import NBSVM_ARCH, fit_baseline, load_baseline_data

    tuned = {spec.name for spec in space.params}
    budget = "full" if tuned & {"num_words", "maxlen"} else "neural"
    config = space.base_config
    data = load_baseline_data(config, budget)
    numbers = summarize(fit_baseline(data, seed=config.seed))
    return {
        "budget": budget,
        "num_words": config.num_words if budget == "neural" else None,
        "maxlen": config.maxlen if budget == "neural" else None,
        **numbers,
        "nbsvm": summarize(fit_baseline(data, seed=config.seed, arch=NBSVM_ARCH)),
    }


def summarize(result: Any) -> dict[str, Any]:
    """The numbers of one fitted baseline that the report shows."""
    return {
        "best_c": result.best_c,
        "best_val_accuracy": result.best_val_accuracy,
        "test_accuracy": result.test_accuracy,
        "train_seconds": round(result.train_seconds, 1),
    }
