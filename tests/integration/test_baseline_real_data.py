"""`rnn-tracking baseline` on a few hundred real reviews: comparable runs per model and budget."""

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from rnn_tracking.cli import main

pytestmark = pytest.mark.integration


def test_baseline_logs_one_comparable_run_per_model_and_budget(
    real_data_path, tracking_uri, capsys
):
    argv = [
        "baseline",
        "--data",
        str(real_data_path),
        "--max_reviews",
        "300",
        "--experiment-name",
        "baseline",
    ]
    assert main(argv) == 0
    experiment = mlflow.get_experiment_by_name("baseline")
    client = MlflowClient()
    found = client.search_runs([experiment.experiment_id])
    by_model = {(r.data.params["arch"], r.data.params["budget"]): r for r in found}
    assert set(by_model) == {
        (arch, budget) for arch in ("tfidf_logreg", "nbsvm") for budget in ("neural", "full")
    }
    runs = {budget: run for (arch, budget), run in by_model.items() if arch == "tfidf_logreg"}
    for (arch, budget), run in by_model.items():
        assert run.info.status == "FINISHED"
        assert run.data.tags["arch"] == arch
        # Every model sits on the same test reviews, so the gate can pair any of them.
        assert run.data.tags["test_digest"] == runs["full"].data.tags["test_digest"]
        for name in ("best_val_accuracy", "test_accuracy", "train_seconds", "param_count"):
            assert name in run.data.metrics, (budget, name)
        assert run.data.metrics["param_count"] == run.data.metrics["feature_count"] + 1
        search = mlflow.artifacts.load_dict(f"runs:/{run.info.run_id}/c_search.json")
        best = max(search["val_accuracy"])
        assert run.data.metrics["best_val_accuracy"] == best
        assert float(run.data.params["C"]) == search["C"][search["val_accuracy"].index(best)]
    assert runs["neural"].data.params["num_words"] == "500"
    assert "num_words" not in runs["full"].data.params
    # The full text holds more than 500 words' worth of features.
    assert runs["full"].data.metrics["feature_count"] > runs["neural"].data.metrics["feature_count"]

    capsys.readouterr()
    assert main(["report", "--experiment-name", "baseline"]) == 0
    table = capsys.readouterr().out
    assert "tfidf_logreg-neural" in table and "tfidf_logreg-full" in table
    assert "nbsvm-neural" in table and "nbsvm-full" in table
