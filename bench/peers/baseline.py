"""The reference: TF-IDF + logistic regression on the sides' splits."""

from __future__ import annotations

from typing import Any


def run_baseline(space: Any) -> dict[str, Any]:
    """Fits the linear baseline on the same splits: at the space's budget, else on full text."""
    from rnn_tracking.baseline import fit_baseline, load_baseline_data

    tuned = {spec.name for spec in space.params}
    budget = "full" if tuned & {"num_words", "maxlen"} else "neural"
    config = space.base_config
    result = fit_baseline(load_baseline_data(config, budget), seed=config.seed)
    return {
        "budget": budget,
        "num_words": config.num_words if budget == "neural" else None,
        "maxlen": config.maxlen if budget == "neural" else None,
        "best_c": result.best_c,
        "best_val_accuracy": result.best_val_accuracy,
        "test_accuracy": result.test_accuracy,
        "train_seconds": round(result.train_seconds, 1),
    }
