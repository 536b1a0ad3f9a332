"""Your own data: any labels, table files and class folders, K classes end to end, on tiny
hand-made three-class sets."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from helpers import assert_one_line_error

from rnn_tracking import baseline, serving
from rnn_tracking.config import TrainConfig
from rnn_tracking.data import load_splits, load_text_splits
from rnn_tracking.metrics import MacroF1, macro_f1
from rnn_tracking.model import build_model
from rnn_tracking.train import train_model

# Three topics, four training and two test reviews each; every topic has its own words.
WORDS = {"sport": "goal match team", "tech": "chip code robot", "food": "bread soup salt"}
ROWS = [
    {"text": f"{WORDS[topic].split()[i % 3]} {WORDS[topic]} n{i}", "topic": topic, "part": part}
    for topic in WORDS
    for i, part in enumerate(["train"] * 4 + ["test"] * 2)
]


def write_table(directory: Path, suffix: str, rows=ROWS) -> Path:
    """Writes ROWS as .csv, .jsonl or .parquet and returns the path."""
    frame = pd.DataFrame(rows)
    path = directory / f"topics{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True)
    else:
        frame.to_parquet(path)
    return path


def table_config(path: Path, **overrides) -> TrainConfig:
    settings = dict(
        data=str(path), text_column="text", label_column="topic", split_column="part", maxlen=6
    )
    return TrainConfig(**(settings | overrides))


def write_folder(root: Path, with_splits: bool) -> Path:
    """Writes ROWS as DIR/{train,test}/<topic>/*.txt, or DIR/<topic>/*.txt without splits."""
    for number, row in enumerate(ROWS):
        folder = root / row["part"] / row["topic"] if with_splits else root / row["topic"]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{number}.txt").write_text(row["text"], encoding="utf-8")
    return root


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_table_files_give_sorted_classes_and_the_same_arrays(tmp_path, suffix):
    splits = load_splits(table_config(write_table(tmp_path, suffix)))
    assert splits.classes == ("food", "sport", "tech") and splits.num_classes == 3
    assert np.bincount(splits.y_test).tolist() == [2, 2, 2]
    reference = load_splits(table_config(write_table(tmp_path, ".csv")))
    np.testing.assert_array_equal(splits.x_test, reference.x_test)
    np.testing.assert_array_equal(splits.y_test, reference.y_test)


@pytest.mark.parametrize("with_splits", [True, False])
def test_class_folders_with_or_without_train_test_level(tmp_path, with_splits):
    root = write_folder(tmp_path / "topics", with_splits)
    (root / ("train" if with_splits else "") / "unsup").mkdir(parents=True)
    (root / ("train" if with_splits else "") / "unsup" / "0.txt").write_text("no label here")
    config = TrainConfig(data=str(root), maxlen=6, test_split=1 / 3)
    splits = load_splits(config)
    assert splits.classes == ("food", "sport", "tech")
    assert len(splits.y_test) == 6 and np.bincount(splits.y_test).tolist() == [2, 2, 2]
    texts = load_text_splits(config)
    assert texts.classes == splits.classes and texts.y_test.tolist() == splits.y_test.tolist()
    assert "no label here" not in texts.train_texts + texts.val_texts + texts.test_texts


def test_classes_option_orders_the_classes(tmp_path):
    path = write_table(tmp_path, ".csv")
    splits = load_splits(table_config(path, classes="tech,food,sport"))
    assert splits.classes == ("tech", "food", "sport")
    texts = load_text_splits(table_config(path, classes="tech,food,sport"))
    names = np.asarray(splits.classes)[texts.y_test]
    assert [row["topic"] for row in ROWS if row["part"] == "test"] == sorted(
        names.tolist(), key=[row["topic"] for row in ROWS if row["part"] == "test"].index
    )


def test_integer_labels_sort_as_numbers_and_print_as_written(tmp_path):
    rows = [
        {"text": f"word{stars} review {i}", "stars": stars, "part": part}
        for stars in (2, 10, 9)
        for i, part in enumerate(["train", "train", "test"])
    ]
    path = write_table(tmp_path, ".csv", rows)
    config = table_config(path, label_column="stars")
    assert load_splits(config).classes == ("2", "9", "10")
    assert_one_line_error(
        table_config(path, label_column="stars", classes="2,9,11"),
        "classes: '11' is not a label of the data",
        "'2', '9', '10'",
    )


def test_bad_labels_and_classes_are_one_line_naming_the_parameter(tmp_path):
    path = write_table(tmp_path, ".csv")
    assert_one_line_error(
        table_config(path, classes="food,sport"), "classes: the label 'tech' of the data is missing"
    )
    assert_one_line_error(table_config(path, label_column="kind"), "label_column: column 'kind'")
    one_class = write_table(tmp_path, ".jsonl", [row for row in ROWS if row["topic"] == "food"])
    assert_one_line_error(
        table_config(one_class), "label_column: column 'topic' holds one class only ('food')"
    )
    only_test = [row for row in ROWS if not (row["topic"] == "tech" and row["part"] == "train")]
    assert_one_line_error(
        table_config(write_table(tmp_path, ".parquet", only_test)),
        "label_column: column 'topic' holds the label 'tech' only in test reviews",
    )
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not a parquet file")
    assert_one_line_error(table_config(broken), "data: file", "is not a readable Parquet file")


def test_single_class_folder_names_data(tmp_path):
    root = tmp_path / "one"
    for split in ("train", "test"):
        (root / split / "spam").mkdir(parents=True)
        (root / split / "spam" / "1.txt").write_text("buy now")
    assert_one_line_error(
        TrainConfig(data=str(root)), "data: the folder holds one class only ('spam')"
    )


def test_wordless_reviews_are_dropped_with_a_count(tmp_path, caplog):
    rows = ROWS + [
        {"text": " ?! ", "topic": "food", "part": "train"},
        {"text": None, "topic": "tech", "part": "test"},
    ]
    with caplog.at_level(logging.WARNING):
        splits = load_splits(table_config(write_table(tmp_path, ".csv", rows)))
    assert len(splits.y_train) + len(splits.y_val) == 12 and len(splits.y_test) == 6
    assert "dropped 2 reviews without words" in caplog.text
    assert "(1 train, 1 test)" in caplog.text


def test_three_classes_get_a_softmax_and_two_keep_the_sigmoid():
    config = TrainConfig(num_words=20, maxlen=6, units=2, embedding_dim=2)
    three = build_model(config, num_classes=3)
    assert three.output_shape == (None, 3)
    assert three.layers[-1].get_config()["activation"] == "softmax"
    assert build_model(config).output_shape == (None, 1)
    with pytest.raises(ValueError, match="num_classes: got 1"):
        build_model(config, num_classes=1)


@pytest.mark.parametrize("num_classes", [2, 3])
def test_keras_macro_f1_equals_the_numpy_macro_f1(num_classes):
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(num_classes)
    labels = rng.integers(0, num_classes, 50)
    outputs = rng.random((50, 1 if num_classes == 2 else num_classes)).astype("float32")
    predicted = (outputs[:, 0] >= 0.5).astype(int) if num_classes == 2 else outputs.argmax(1)
    metric = MacroF1(num_classes)
    metric.update_state(labels[:20], outputs[:20])
    metric.update_state(labels[20:], outputs[20:])
    expected = f1_score(labels, predicted, average="macro")
    assert float(metric.result()) == pytest.approx(expected, abs=1e-6)
    assert macro_f1(labels, predicted, num_classes) == pytest.approx(expected)


@pytest.fixture
def trained_three_classes(tmp_path):
    config = table_config(
        write_table(tmp_path, ".csv"), num_words=20, units=4, embedding_dim=4, epochs=3
    )
    splits = load_splits(config)
    return config, splits, train_model(config, splits, tmp_path / "best.keras")


@pytest.mark.slow
def test_three_class_training_reports_accuracy_and_macro_f1(trained_three_classes):
    _, _, result = trained_three_classes
    assert result.model.output_shape == (None, 3)
    assert len(result.history["val_macro_f1"]) == result.epochs_run
    assert 0.0 <= result.test_macro_f1 <= 1.0 and 0.0 <= result.best_val_macro_f1 <= 1.0
    assert "test_macro_f1" in result.summary_metrics()


@pytest.mark.slow
def test_three_class_text_model_answers_with_class_names(trained_three_classes, tmp_path):
    config, splits, result = trained_three_classes
    path = tmp_path / "text_model"
    serving.save_text_model(path, config, splits.vocabulary, result.model, splits.classes)
    loaded = mlflow.pyfunc.load_model(str(path))
    scores = loaded.predict(["goal match", "bread soup"])
    for score in scores:
        assert score.label in splits.classes
        assert set(score.probabilities) == set(splits.classes)
        assert sum(score.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
        assert score.label == max(score.probabilities, key=score.probabilities.get)
        assert set(json.loads(score.model_dump_json())) == {"label", "probabilities"}
    frame = serving.predict_frame(loaded, ["goal match"])
    assert list(frame.columns) == [
        "label",
        "probability",
        "probability_food",
        "probability_sport",
        "probability_tech",
    ]


def test_baseline_is_multinomial_for_three_classes(tmp_path):
    config = table_config(write_table(tmp_path, ".csv"), val_split=0.25)
    data = baseline.load_baseline_data(config, "full")
    result = baseline.fit_baseline(data, seed=0, c_grid=(1.0,))
    assert data.classes == ("food", "sport", "tech")
    assert result.solver == "lbfgs"
    assert result.param_count == 3 * result.feature_count + 3
    assert 0.0 <= result.test_macro_f1 <= 1.0
