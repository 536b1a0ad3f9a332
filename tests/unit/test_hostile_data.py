"""Data a hostile but fair user gives: each refusal names the option at fault and what it found,
in one short line; a file that is not text is skipped with a count, never decoded wrongly."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from rnn_tracking import cli
from rnn_tracking.config import TrainConfig, validate_config
from rnn_tracking.data import load_text_splits
from rnn_tracking.tracking import format_class_order, parse_class_order

PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"


def refusal(config: TrainConfig) -> str:
    """Returns the one-line message that loading `config`'s data is refused with."""
    with pytest.raises(ValueError) as caught:
        load_text_splits(config)
    message = str(caught.value)
    assert "\n" not in message and len(message) < 400, message
    return message


def test_continuous_labels_are_refused_naming_label_column_and_how_many(tmp_path):
    frame = pd.DataFrame(
        {"text": [f"review number {i}" for i in range(400)], "score": [i / 7 for i in range(400)]}
    )
    frame.to_csv(tmp_path / "scores.csv", index=False)
    message = refusal(
        TrainConfig(data=str(tmp_path / "scores.csv"), text_column="text", label_column="score")
    )
    assert message.startswith(
        "label_column: column 'score' holds 400 distinct labels in 400 rows, numbers with "
        "decimals (e.g. '0.0', '0.14285714285714285', '0.2857142857142857', ...): they look "
        "continuous, not classes"
    )
    assert "test_split" not in message


def test_labels_on_one_row_each_are_refused_naming_label_column(tmp_path):
    rows = {"text": ["a good one", "a bad one", "fine", "meh"], "name": ["ann", "bob", "cy", "di"]}
    pd.DataFrame(rows).to_csv(tmp_path / "names.csv", index=False)
    message = refusal(
        TrainConfig(data=str(tmp_path / "names.csv"), text_column="text", label_column="name")
    )
    assert message.startswith(
        "label_column: column 'name' holds 4 distinct labels in 4 rows, 4 of them on one row "
        "only (e.g. 'ann', 'bob', 'cy', ...)"
    )


def test_a_text_column_of_integers_is_refused_naming_text_column(tmp_path):
    frame = pd.DataFrame({"text": list(range(20)), "label": ["a", "b"] * 10})
    frame.to_parquet(tmp_path / "numbers.parquet")
    message = refusal(
        TrainConfig(
            data=str(tmp_path / "numbers.parquet"), text_column="text", label_column="label"
        )
    )
    assert message == (
        f"text_column: column 'text' of '{tmp_path / 'numbers.parquet'}' holds no text (20 "
        "values of type int, e.g. '0', '1', '2', ...); valid values are a column of review "
        "strings."
    )


def test_a_broken_json_lines_file_is_reported_by_line(tmp_path):
    path = tmp_path / "reviews.jsonl"
    path.write_text('{"text": "good", "label": "pos"}\n{"text": "bad", "label": \n')
    message = refusal(TrainConfig(data=str(path), text_column="text", label_column="label"))
    assert f"file '{path}' is not a readable JSON Lines file (line 2: Expecting value" in message


def write_class_folders(root: Path) -> Path:
    """Writes two class folders of UTF-8 reviews (one with a BOM) and three files that are not."""
    for label, word in (("pos", "great"), ("neg", "awful")):
        (root / label).mkdir(parents=True)
        for number in range(6):
            (root / label / f"{number}.txt").write_text(f"{word} film {number}", encoding="utf-8")
    (root / "pos" / "bom.txt").write_bytes("\ufeffgreat café".encode())
    (root / "pos" / "picture.txt").write_bytes(PNG_BYTES)
    (root / "neg" / "latin.txt").write_bytes("awful café".encode("latin-1"))
    return root


def test_files_that_are_not_utf8_text_are_skipped_with_one_warning(tmp_path, caplog):
    root = write_class_folders(tmp_path / "reviews")
    with caplog.at_level(logging.WARNING):
        texts = load_text_splits(TrainConfig(data=str(root), test_split=0.3))
    everything = texts.train_texts + texts.val_texts + texts.test_texts
    assert len(everything) == 13
    assert "great café" in everything
    assert not any("\ufffd" in text or "\ufeff" in text for text in everything)
    [warning] = [r.getMessage() for r in caplog.records if "not UTF-8" in r.getMessage()]
    assert warning.startswith("data: skipped 2 files of") and "that are not UTF-8 text" in warning


@pytest.mark.slow
def test_train_cli_refuses_continuous_labels_with_exit_2_and_opens_no_run(
    tmp_path, tracking_uri, capsys
):
    frame = pd.DataFrame(
        {"review": [f"text {i}" for i in range(50)], "y": [i / 3 for i in range(50)]}
    )
    frame.to_csv(tmp_path / "y.csv", index=False)
    code = cli.main(["train", "--data", str(tmp_path / "y.csv"), "--label-column", "y"])
    [line] = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert line.startswith("rnn-tracking: error: label_column: column 'y' holds 50 distinct")
    experiments = [e.experiment_id for e in mlflow.search_experiments()]
    runs = mlflow.search_runs(experiments, output_format="list")
    assert all(run.info.status != "RUNNING" for run in runs)


def write_comma_labels(tmp_path: Path) -> Path:
    """Writes a CSV whose labels are `good, really` and `bad`, four reviews each."""
    rows = [("fine fine film", "good, really"), ("dull dull film", "bad")] * 4
    frame = pd.DataFrame(
        {"text": [f"{text} {i}" for i, (text, _) in enumerate(rows)], "label": [r[1] for r in rows]}
    )
    frame.to_csv(tmp_path / "commas.csv", index=False)
    return tmp_path / "commas.csv"


def test_classes_with_commas_are_given_as_a_json_list(tmp_path):
    path = write_comma_labels(tmp_path)
    config = TrainConfig(data=str(path), text_column="text", label_column="label", test_split=0.5)
    given = dataclasses.replace(config, classes='["good, really","bad"]')
    assert load_text_splits(given).classes == ("good, really", "bad")
    message = refusal(dataclasses.replace(config, classes="good, really,bad"))
    assert message == (
        "classes: 'good' is not a label of the data; valid values are the labels found: "
        """'bad', 'good, really' (as ["bad", "good, really"])."""
    )
    with pytest.raises(ValueError, match=r"^classes: got '\[\"bad\"'; valid values are comma"):
        validate_config(dataclasses.replace(config, classes='["bad"'))


def test_class_order_tag_is_unambiguous_and_old_tags_still_read():
    assert format_class_order(("neg", "pos")) == "neg,pos"
    assert format_class_order(("good, really", "bad")) == '["good, really", "bad"]'
    for classes in (("neg", "pos"), ("good, really", "bad"), ("[x]", "y")):
        assert parse_class_order(format_class_order(classes)) == classes
