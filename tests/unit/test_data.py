"""Reading and encoding review sources, checked on tiny datasets made by the tests.

The expected encodings follow from the tiny tree in conftest: great=4, acting=5, bad=6,
film=7, movie=8, a=9, awful=10; 1 starts each review and 2 stands for unknown words.
"""

from __future__ import annotations

import hashlib
import os
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import assert_one_line_error, write_reviews
from sklearn.model_selection import train_test_split

from rnn_tracking import data
from rnn_tracking.config import DATA_ENV_VAR, TrainConfig
from rnn_tracking.data import encode_texts, load_splits, tokenize

MAXLEN = 8
VOCABULARY = ("great", "acting", "bad", "film", "movie", "a", "awful")
# Training reviews in reading order (sorted paths: neg/1_1, neg/2_2, pos/1_10, pos/2_9).
TRAIN_SEQUENCES = [[1, 6, 8, 6, 5], [1, 10, 7], [1, 4, 8, 4, 5], [1, 9, 4, 7]]
TRAIN_LABELS = [0, 0, 1, 1]
TEST_SEQUENCES = [[1, 6, 7, 2, 2, 2, 2], [1, 4, 2, 2, 2, 2]]
TEST_LABELS = [0, 1]


def pad_front(sequences: list[list[int]], maxlen: int = MAXLEN) -> np.ndarray:
    """Pads by hand in front, as the expected value the tests compare against."""
    rows = np.zeros((len(sequences), maxlen), dtype=np.int32)
    for row, sequence in zip(rows, sequences, strict=True):
        kept = sequence[-maxlen:]
        row[maxlen - len(kept) :] = kept
    return rows


def make_config(source: Path | str, **overrides) -> TrainConfig:
    """Returns a config reading `source` with short reviews, so expected rows stay readable."""
    return TrainConfig(data=str(source), maxlen=overrides.pop("maxlen", MAXLEN), **overrides)


def sorted_rows(x: np.ndarray, y: np.ndarray) -> list[tuple[int, ...]]:
    """Returns each review as (label, *indices), sorted, to compare splits as sets."""
    return sorted((int(label), *map(int, row)) for row, label in zip(x, y, strict=True))


def training_rows(splits: data.Splits) -> list[tuple[int, ...]]:
    """Returns the training and validation reviews together, sorted."""
    return sorted_rows(
        np.concatenate([splits.x_train, splits.x_val]),
        np.concatenate([splits.y_train, splits.y_val]),
    )


# Tokenizing and encoding.


def test_tokenize_lowercases_breaks_lines_and_keeps_inner_apostrophes():
    text = "Don't MISS it!<br /><br />A 10/10 'classic' of the 90's.<br>Café"
    assert tokenize(text) == [
        "don't", "miss", "it", "a", "10", "10", "classic", "of", "the", "90's", "café",
    ]  # fmt: skip


def test_start_mark_oov_and_offset_follow_keras_imdb(tiny_aclimdb):
    splits = load_splits(make_config(tiny_aclimdb))
    assert splits.vocabulary == VOCABULARY
    assert training_rows(splits) == sorted_rows(pad_front(TRAIN_SEQUENCES), TRAIN_LABELS)
    np.testing.assert_array_equal(splits.x_test, pad_front(TEST_SEQUENCES))
    np.testing.assert_array_equal(splits.y_test, TEST_LABELS)


def test_words_are_ranked_on_training_split_only(tiny_aclimdb):
    splits = load_splits(make_config(tiny_aclimdb))
    # 'unseen' is the most frequent word of the corpus, but only in the test split.
    assert "unseen" not in splits.vocabulary
    assert (splits.x_test == data.OOV_INDEX).sum() == 8


def test_rank_ties_are_broken_alphabetically():
    tokens = [["movie", "bad", "film"], ["film", "bad", "movie", "zebra", "apple"]]
    assert data.rank_words(tokens, num_words=100) == ("bad", "film", "movie", "apple", "zebra")


def test_num_words_cuts_vocabulary_like_keras(tiny_aclimdb):
    full = load_splits(make_config(tiny_aclimdb, num_words=500))
    cut = load_splits(make_config(tiny_aclimdb, num_words=6))
    # Keras keeps index i when i < num_words: ranks 1..num_words - 4, here great and acting.
    assert cut.vocabulary == ("great", "acting")
    expected_test = np.where(full.x_test < 6, full.x_test, data.OOV_INDEX)
    np.testing.assert_array_equal(cut.x_test, expected_test)
    assert training_rows(cut) == sorted_rows(
        np.where(pad_front(TRAIN_SEQUENCES) < 6, pad_front(TRAIN_SEQUENCES), 2), TRAIN_LABELS
    )


def test_padding_in_front_and_truncation_keeps_last_tokens():
    x = encode_texts(["great", "bad film great acting movie"], VOCABULARY, 500, maxlen=3)
    np.testing.assert_array_equal(x, [[0, 1, 4], [4, 5, 8]])
    assert x.dtype == np.int32


@pytest.mark.parametrize(
    "padding, truncating, expected",
    [
        ("pre", "pre", [[0, 0, 7], [3, 4, 5]]),
        ("post", "pre", [[7, 0, 0], [3, 4, 5]]),
        ("pre", "post", [[0, 0, 7], [1, 2, 3]]),
        ("post", "post", [[7, 0, 0], [1, 2, 3]]),
    ],
)
def test_pad_reviews_pads_and_cuts_at_the_chosen_ends(padding, truncating, expected):
    x = data.pad_reviews([[7], [1, 2, 3, 4, 5]], 3, padding=padding, truncating=truncating)
    np.testing.assert_array_equal(x, expected)
    assert x.shape == (2, 3) and x.dtype == np.int32


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
def test_pad_reviews_gives_keras_pad_sequences_arrays(padding, truncating):
    from keras.utils import pad_sequences

    rng = np.random.default_rng(0)
    reviews = [list(rng.integers(1, 50, size)) for size in (0, 1, 4, 5, 9)]
    ours = data.pad_reviews(reviews, 5, padding=padding, truncating=truncating)
    theirs = pad_sequences(reviews, maxlen=5, dtype="int32", padding=padding, truncating=truncating)
    assert ours.dtype == np.int32
    np.testing.assert_array_equal(ours, theirs)


def test_pad_reviews_refuses_an_unknown_end():
    with pytest.raises(ValueError, match="truncating: got 'middle'; valid values are pre, post"):
        data.pad_reviews([[1]], 3, truncating="middle")


def test_encoding_keeps_the_first_tokens_with_post_truncating(tiny_aclimdb):
    last = load_splits(make_config(tiny_aclimdb, maxlen=3))
    first = load_splits(make_config(tiny_aclimdb, maxlen=3, truncating="post", padding="post"))
    assert last.x_test.tolist() == [row[-3:] for row in TEST_SEQUENCES]
    assert first.x_test.tolist() == [row[:3] for row in TEST_SEQUENCES]
    expected = sorted_rows(
        data.pad_reviews(TRAIN_SEQUENCES, 3, padding="post", truncating="post"),
        np.asarray(TRAIN_LABELS),
    )
    assert training_rows(first) == expected


def test_padding_and_truncating_are_part_of_the_cache_key():
    keys = {
        data.make_cache_key("tar", "digest", TrainConfig(padding=padding, truncating=truncating))
        for padding in ("pre", "post")
        for truncating in ("pre", "post")
    }
    assert len(keys) == 4


def test_encode_texts_reproduces_training_encoding(tiny_aclimdb):
    splits = load_splits(make_config(tiny_aclimdb))
    texts = ["Bad film unseen unseen unseen unseen", "Great unseen unseen unseen unseen"]
    np.testing.assert_array_equal(
        encode_texts(texts, splits.vocabulary, 500, MAXLEN), splits.x_test
    )


def test_encode_texts_of_no_texts_is_empty():
    assert encode_texts([], VOCABULARY, 500, MAXLEN).shape == (0, MAXLEN)


def test_splits_hold_int32_arrays_and_describe_their_source(tiny_aclimdb):
    splits = load_splits(make_config(tiny_aclimdb))
    for array in (splits.x_train, splits.y_train, splits.x_val, splits.y_val):
        assert array.dtype == np.int32
    assert splits.x_train.shape == (3, MAXLEN) and splits.x_val.shape == (1, MAXLEN)
    assert splits.x_test.shape == (2, MAXLEN) and splits.y_test.dtype == np.int32
    assert (splits.source, splits.name) == (str(tiny_aclimdb), "aclImdb")
    assert len(splits.digest) == 64


def test_empty_data_field_falls_back_to_environment_variable(tiny_aclimdb, monkeypatch):
    monkeypatch.setenv(DATA_ENV_VAR, str(tiny_aclimdb))
    splits = load_splits(TrainConfig(maxlen=MAXLEN))
    assert splits.source == str(tiny_aclimdb)
    assert splits.vocabulary == VOCABULARY


# aclImdb directory and tar.


def test_tar_and_directory_give_same_arrays(tiny_aclimdb, tiny_aclimdb_tar):
    from_directory = load_splits(make_config(tiny_aclimdb))
    from_tar = load_splits(make_config(tiny_aclimdb_tar))
    for field in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(from_tar, field), getattr(from_directory, field))
    assert from_tar.vocabulary == from_directory.vocabulary
    assert from_tar.name == "aclImdb"


def test_directory_may_be_aclimdb_or_its_parent(tiny_aclimdb):
    inside = load_splits(make_config(tiny_aclimdb))
    parent = load_splits(make_config(tiny_aclimdb.parent))
    np.testing.assert_array_equal(parent.x_test, inside.x_test)
    assert parent.digest == inside.digest


def test_tar_without_top_folder_is_accepted(tiny_aclimdb, tmp_path):
    path = tmp_path / "flat.tgz"
    with tarfile.open(path, "w:gz") as archive:
        for child in sorted(tiny_aclimdb.iterdir()):
            archive.add(child, arcname=child.name)
    np.testing.assert_array_equal(load_splits(make_config(path)).x_test, pad_front(TEST_SEQUENCES))


def test_tar_digest_is_sha256_of_its_bytes(tiny_aclimdb_tar):
    expected = hashlib.sha256(tiny_aclimdb_tar.read_bytes()).hexdigest()
    assert load_splits(make_config(tiny_aclimdb_tar)).digest == expected


def test_max_reviews_keeps_a_stratified_sample_before_ranking_words(tmp_path):
    reviews = {}
    for split in ("train", "test"):
        for label in ("pos", "neg"):
            for number in range(10):
                reviews[f"{split}/{label}/{number}_5.txt"] = f"{label}{number}{split} common"
    root = write_reviews(tmp_path / "aclImdb", reviews)
    splits = load_splits(make_config(root, max_reviews=4, val_split=0.5))
    assert len(splits.y_train) + len(splits.y_val) == 4 and len(splits.y_test) == 4
    assert np.bincount(np.concatenate([splits.y_train, splits.y_val])).tolist() == [2, 2]
    assert np.bincount(splits.y_test).tolist() == [2, 2]
    # Only the four kept training reviews contribute words: theirs and 'common'.
    assert splits.vocabulary[0] == "common" and len(splits.vocabulary) == 5


# CSV.


def test_csv_accepts_text_labels_and_html_breaks(tiny_csv):
    splits = load_splits(make_config(tiny_csv))
    assert splits.name == "reviews"
    all_labels = np.concatenate([splits.y_train, splits.y_val, splits.y_test])
    assert sorted(all_labels.tolist()) == [0] * 5 + [1] * 5
    assert "br" not in splits.vocabulary
    assert set(splits.vocabulary) <= {
        "great",
        "bad",
        "movie",
        "acting",
        "film",
        "a",
        "story",
        "fun",
        "cast",
    }


def test_csv_accepts_numeric_labels_and_a_split_column(tmp_path):
    path = tmp_path / "numbers.csv"
    path.write_text(
        "text,label,part\ngood good,1,train\nbad,0,train\ngood,1,TRAIN\nbad bad,0,train\n"
        "good,1,test\nawful,0,Test\n"
    )
    config = make_config(path, text_column="text", label_column="label", split_column="part")
    splits = load_splits(config)
    assert splits.vocabulary == ("bad", "good")
    assert sorted_rows(splits.x_test, splits.y_test) == sorted_rows(
        pad_front([[1, 2], [1, 5]]), [0, 1]
    )
    assert len(splits.y_train) + len(splits.y_val) == 4


def test_csv_without_split_column_holds_out_stratified_test_fraction(tiny_csv):
    splits = load_splits(make_config(tiny_csv, test_split=0.4))
    assert np.bincount(splits.y_test).tolist() == [2, 2]
    assert len(splits.y_train) + len(splits.y_val) == 6


def test_validation_split_matches_train_test_split_with_seed(tiny_aclimdb):
    splits = load_splits(make_config(tiny_aclimdb, val_split=0.5, seed=7))
    x_train, x_val, y_train, y_val = train_test_split(
        pad_front(TRAIN_SEQUENCES), np.array(TRAIN_LABELS), test_size=0.5, random_state=7
    )
    np.testing.assert_array_equal(splits.x_train, x_train)
    np.testing.assert_array_equal(splits.x_val, x_val)
    np.testing.assert_array_equal(splits.y_train, y_train)
    np.testing.assert_array_equal(splits.y_val, y_val)


# Cache.


def test_cache_hit_returns_same_arrays_without_reencoding(tiny_aclimdb_tar, monkeypatch):
    first = load_splits(make_config(tiny_aclimdb_tar))

    def fail(*args, **kwargs):
        raise AssertionError("the cached encoding should have been used")

    monkeypatch.setattr(data.splits, "encode_corpus", fail)
    monkeypatch.setattr(data.splits, "read_review_tar", fail)
    again = load_splits(make_config(tiny_aclimdb_tar, val_split=0.5))
    np.testing.assert_array_equal(again.x_test, first.x_test)
    assert training_rows(again) == training_rows(first)
    assert (again.vocabulary, again.digest) == (first.vocabulary, first.digest)


def test_directory_cache_hit_skips_reading_reviews(tiny_aclimdb, monkeypatch):
    first = load_splits(make_config(tiny_aclimdb))
    monkeypatch.setattr(data.splits, "read_review_directory", None)
    assert load_splits(make_config(tiny_aclimdb)).digest == first.digest


def test_changed_source_invalidates_cache(tiny_aclimdb, tiny_csv):
    load_splits(make_config(tiny_aclimdb))
    (tiny_aclimdb / "test/pos/1_8.txt").write_text("Awful awful")
    assert load_splits(make_config(tiny_aclimdb)).x_test[1, -3:].tolist() == [1, 10, 10]

    before = load_splits(make_config(tiny_csv))
    tiny_csv.write_text(tiny_csv.read_text().replace("reat", "ood"))
    after = load_splits(make_config(tiny_csv))
    assert after.digest != before.digest
    assert "good" in after.vocabulary and "great" not in after.vocabulary


def test_changed_encoding_settings_do_not_reuse_cache(tiny_aclimdb):
    assert load_splits(make_config(tiny_aclimdb, maxlen=8)).x_test.shape == (2, 8)
    assert load_splits(make_config(tiny_aclimdb, maxlen=5)).x_test.shape == (2, 5)
    assert len(load_splits(make_config(tiny_aclimdb, num_words=6)).vocabulary) == 2


def test_directory_digest_depends_on_content_not_dates(tiny_aclimdb):
    before = load_splits(make_config(tiny_aclimdb)).digest
    review = tiny_aclimdb / "train/pos/2_9.txt"
    os.utime(review, ns=(review.stat().st_atime_ns, review.stat().st_mtime_ns + 10**9))
    assert load_splits(make_config(tiny_aclimdb)).digest == before


def test_corrupt_cache_file_is_ignored_and_rebuilt(tiny_aclimdb_tar, private_cache):
    first = load_splits(make_config(tiny_aclimdb_tar))
    (cache_file,) = private_cache.glob("*.npz")
    cache_file.write_bytes(b"half a file")
    again = load_splits(make_config(tiny_aclimdb_tar))
    np.testing.assert_array_equal(again.x_test, first.x_test)
    assert data.read_cache(cache_file) is not None


def test_cache_write_leaves_only_the_finished_file(tiny_aclimdb_tar, private_cache):
    load_splits(make_config(tiny_aclimdb_tar))
    assert [path.suffix for path in private_cache.iterdir()] == [".npz"]


# The Keras loader.


def test_keras_download_failure_says_how_to_point_at_local_data(monkeypatch):
    def refuse(*args, **kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com: None")

    monkeypatch.setattr("keras.datasets.imdb.load_data", refuse)
    with pytest.raises(ValueError) as caught:
        load_splits(TrainConfig(data="keras"))
    message = str(caught.value)
    assert "\n" not in message
    for hint in ("data:", "--data PATH", "-P data=PATH", DATA_ENV_VAR, ".tar.gz", ".csv"):
        assert hint in message


def test_keras_source_pads_loader_output_and_ranks_word_index(monkeypatch):
    x_train = np.array([[1, 4, 5], [1, 6], [1, 4], [1, 5, 5, 2], [1, 4]], dtype=object)
    x_test = np.array([[1, 5], [1, 2, 4]], dtype=object)
    loaded = ((x_train, np.array([1, 0, 1, 0, 1])), (x_test, np.array([0, 1])))
    monkeypatch.setattr("keras.datasets.imdb.load_data", lambda num_words: loaded)
    word_index = {"and": 2, "the": 1, "a": 3, "of": 4}
    monkeypatch.setattr("keras.datasets.imdb.get_word_index", lambda: word_index)
    splits = load_splits(TrainConfig(data="keras", num_words=6, maxlen=3))
    assert splits.vocabulary == ("the", "and")
    np.testing.assert_array_equal(splits.x_test, [[0, 1, 5], [1, 2, 4]])
    assert (splits.name, splits.source, len(splits.digest)) == ("imdb", "keras", 64)


# Bad input: one line naming the parameter and the valid values.


def test_missing_path_error_names_data_and_valid_values():
    assert_one_line_error(
        make_config("/nope"),
        "data: path '/nope' does not exist; valid values are 'keras', an aclImdb directory",
    )


def test_empty_directory_and_empty_file_are_rejected(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty.csv").touch()
    assert_one_line_error(make_config(tmp_path / "empty"), "data:", "is empty", "valid values")
    assert_one_line_error(make_config(tmp_path / "empty.csv"), "data:", "is empty")


def test_directory_without_aclimdb_layout_is_rejected(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    assert_one_line_error(make_config(tmp_path), "data:", "no aclImdb layout", "valid values")


def test_corrupt_tar_is_rejected(tmp_path):
    path = tmp_path / "broken.tar.gz"
    path.write_bytes(b"this is not gzip data")
    assert_one_line_error(make_config(path), "data:", "not a readable .tar.gz", "valid values")


def test_tar_without_reviews_is_rejected(tmp_path):
    path = tmp_path / "other.tar.gz"
    (tmp_path / "readme.md").write_text("no reviews here")
    with tarfile.open(path, "w:gz") as archive:
        archive.add(tmp_path / "readme.md", arcname="readme.md")
    assert_one_line_error(make_config(path), "data:", "holds no aclImdb reviews")


def test_unsupported_file_type_is_rejected(tmp_path):
    path = tmp_path / "reviews.json"
    path.write_text("[]")
    assert_one_line_error(make_config(path), "data:", "neither a .tar.gz nor a .csv")


def test_csv_missing_column_names_parameter_column_and_columns_found(tiny_csv):
    assert_one_line_error(
        make_config(tiny_csv, text_column="text"),
        "text_column: column 'text' is not in",
        "'review', 'sentiment'",
    )
    assert_one_line_error(make_config(tiny_csv, split_column="part"), "split_column: column 'part'")


def test_csv_label_seen_only_in_test_names_label_column_and_value(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "review,sentiment,part\ngood,positive,train\nbad,negative,train\nmeh,neutral,test\n"
    )
    assert_one_line_error(
        make_config(path, split_column="part"),
        "label_column: column 'sentiment'",
        "'neutral' only in test",
    )


def test_csv_bad_split_value_names_split_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("review,sentiment,part\ngood,1,train\nbad,0,holdout\n")
    assert_one_line_error(
        make_config(path, split_column="part"), "split_column:", "'holdout'", "'train' and 'test'"
    )


def test_split_with_no_reviews_is_rejected(tmp_path):
    root = write_reviews(tmp_path / "aclImdb", {"train/pos/1_9.txt": "good"})
    (root / "test").mkdir()
    assert_one_line_error(make_config(root), "data:", "has no test reviews")
    path = tmp_path / "only_train.csv"
    path.write_text("review,sentiment,part\ngood,1,train\nbad,0,train\n")
    assert_one_line_error(make_config(path, split_column="part"), "has no test reviews")


def test_a_killed_writes_stale_temporary_file_is_removed_by_the_next_write(
    tiny_aclimdb_tar, private_cache
):
    stale = private_cache / ".abc-killed.tmp"
    fresh = private_cache / ".abc-writing.tmp"
    for path in (stale, fresh):
        path.write_bytes(b"half an encoding")
    hours_ago = time.time() - 2 * 3600
    os.utime(stale, (hours_ago, hours_ago))
    load_splits(make_config(tiny_aclimdb_tar))
    # The fresh one may be another process's write in progress: it stays.
    assert sorted(path.name for path in private_cache.iterdir() if path.suffix == ".tmp") == [
        ".abc-writing.tmp"
    ]
