"""Your own data, end to end: a four-class set built from the real archive's star ratings.

aclImdb names each review `<id>_<rating>.txt`. Ratings 1-2, 3-4, 7-8 and 9-10 become the
classes awful, poor, good and great of a Keras-style text folder (and of a CSV with its own
column names). The folder trains through the CLI with `--data DIR` and nothing else about
the data; its text model is loaded with pyfunc, answers with class names, and is
evaluated. A CSV of the same reviews trains through `mlflow run .`.
"""

from __future__ import annotations

import json
import re
import subprocess
import tarfile
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from helpers import ROOT, mlflow_run_command
from mlflow.tracking import MlflowClient

from rnn_tracking import serving
from rnn_tracking.cli import main

pytestmark = pytest.mark.integration

BUCKETS = {1: "awful", 2: "awful", 3: "poor", 4: "poor", 7: "good", 8: "good", 9: "great"}
BUCKETS[10] = "great"
CLASSES = ("awful", "good", "great", "poor")
PER_CLASS = {"train": 80, "test": 40}
RATED = re.compile(r"(?:^|/)(train|test)/(?:pos|neg)/(\d+)_(\d+)\.txt$")


@pytest.fixture
def rated_reviews(real_data_path) -> list[dict]:
    """Reads PER_CLASS reviews per split and rating bucket from the real archive."""
    counts: dict[tuple[str, str], int] = {}
    rows = []
    with tarfile.open(real_data_path, mode="r|gz") as archive:
        for member in archive:
            match = RATED.search(member.name)
            if not match or not member.isfile():
                continue
            split, number, rating = match.group(1), match.group(2), int(match.group(3))
            label = BUCKETS[rating]
            if counts.get((split, label), 0) >= PER_CLASS[split]:
                continue
            counts[(split, label)] = counts.get((split, label), 0) + 1
            text = archive.extractfile(member).read().decode("utf-8", errors="replace")
            rows.append({"split": split, "label": label, "id": number, "text": text})
            if len(rows) == sum(PER_CLASS.values()) * len(CLASSES):
                break
    return rows


@pytest.fixture
def rated_folder(rated_reviews, tmp_path) -> Path:
    """Writes the reviews as DIR/{train,test}/<class>/<id>.txt."""
    root = tmp_path / "ratings"
    for row in rated_reviews:
        folder = root / row["split"] / row["label"]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{row['id']}.txt").write_text(row["text"], encoding="utf-8")
    return root


def all_runs():
    experiments = [e.experiment_id for e in MlflowClient().search_experiments()]
    return MlflowClient().search_runs(experiments) if experiments else []


def test_four_class_folder_trains_serves_and_evaluates(rated_folder, subprocess_env):
    finished = subprocess.run(
        ["rnn-tracking", "train", "--data", str(rated_folder), "--epochs", "2"]
        + ["--units", "8", "--learning-rate", "1e-3", "--experiment-name", "ratings"],
        capture_output=True,
        text=True,
        env=subprocess_env,
        timeout=900,
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    [run] = all_runs()
    run_id = run.info.run_id
    assert run.info.status == "FINISHED"
    assert run.data.params["classes"] == "auto"
    assert run.data.tags["class_order"] == ",".join(CLASSES)
    assert run.data.metrics["param_count"] == 8809 + 3 * 9
    for name in ("best_val_macro_f1", "test_macro_f1", "test_accuracy"):
        assert 0.0 <= run.data.metrics[name] <= 1.0, name
    history = MlflowClient().get_metric_history(run_id, "val_macro_f1")
    assert [metric.step for metric in history] == [1, 2]
    recorded = json.loads(
        Path(
            mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="classes.json")
        ).read_text()
    )
    assert recorded["classes"] == list(CLASSES)
    assert sum(recorded["reviews"]["test"]) == PER_CLASS["test"] * len(CLASSES)

    model = mlflow.pyfunc.load_model(f"runs:/{run_id}/{serving.TEXT_MODEL_NAME}")
    scores = model.predict(["The worst film I have ever seen.", "A masterpiece, simply great."])
    for score in scores:
        assert score.label in CLASSES and set(score.probabilities) == set(CLASSES)
        assert sum(score.probabilities.values()) == pytest.approx(1.0, abs=1e-5)

    evaluation = serving.evaluate_model(f"runs:/{run_id}/{serving.TEXT_MODEL_NAME}")
    assert evaluation.reviews == PER_CLASS["test"] * len(CLASSES)
    for name in ("accuracy_score", "macro_f1", "roc_auc_ovr", *(f"f1_{c}" for c in CLASSES)):
        assert 0.0 <= evaluation.metrics[name] <= 1.0, name
    artifacts = {item.path for item in MlflowClient().list_artifacts(evaluation.run_id)}
    assert {"confusion_matrix.json", "roc_curve_plot.png"} <= artifacts
    confusion = json.loads(
        Path(
            mlflow.artifacts.download_artifacts(
                run_id=evaluation.run_id, artifact_path="confusion_matrix.json"
            )
        ).read_text()
    )
    assert confusion["classes"] == list(CLASSES)
    assert sum(map(sum, confusion["matrix"])) == evaluation.reviews
    print(
        f"four classes, {evaluation.reviews} test reviews: test_accuracy "
        f"{run.data.metrics['test_accuracy']:.4f}, test_macro_f1 "
        f"{run.data.metrics['test_macro_f1']:.4f}, evaluate macro_f1 "
        f"{evaluation.metrics['macro_f1']:.4f}, roc_auc_ovr {evaluation.metrics['roc_auc_ovr']:.4f}"
    )
    assert all(each.info.status != "RUNNING" for each in all_runs())


def test_four_class_csv_trains_through_mlflow_run(rated_reviews, tmp_path, subprocess_env):
    path = tmp_path / "ratings.csv"
    frame = pd.DataFrame(rated_reviews).rename(
        columns={"text": "body", "label": "bucket", "split": "fold"}
    )
    frame.to_csv(path, index=False)
    command = mlflow_run_command(
        f"data={path}",
        "text_column=body",
        "label_column=bucket",
        "split_column=fold",
        "classes=awful,poor,good,great",
        "epochs=1",
        "learning_rate=1e-3",
        experiment="csv",
    )
    finished = subprocess.run(
        command, capture_output=True, text=True, env=subprocess_env, cwd=ROOT, timeout=900
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    [run] = all_runs()
    assert run.info.status == "FINISHED"
    assert run.data.tags["class_order"] == "awful,poor,good,great"
    assert "test_macro_f1" in run.data.metrics
    model = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/{serving.TEXT_MODEL_NAME}")
    assert model.predict(["Terrible."])[0].label in {"awful", "poor", "good", "great"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--classes", "awful,good,great,superb"], "classes: 'superb' is not a label of the data"),
        (["--classes", "awful,good"], "classes: the label 'great' of the data is missing"),
    ],
)
def test_bad_classes_are_one_line_and_leave_no_run(
    rated_folder, args, message, tracking_uri, capsys
):
    assert main(["train", "--data", str(rated_folder), *args]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"rnn-tracking: error: {message}"), error
    assert error.count("\n") == 1
    assert all_runs() == []
