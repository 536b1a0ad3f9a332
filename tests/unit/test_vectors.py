"""Pretrained word vectors: the three file formats, the matrix's rows, and the lineage rules."""

import struct

import numpy as np
import pytest

from rnn_tracking.config import TrainConfig
from rnn_tracking.data import (
    build_embedding_matrix,
    load_embedding_matrix,
    load_training_tokens,
    read_word_vectors,
)
from rnn_tracking.embeddings import check_vector_lineage, parse_runs_uri
from rnn_tracking.options import EmbedOptions

WORDS = {"good": [0.5, -1.0, 2.0], "bad": [-0.5, 1.0, -2.0], "film": [1e-3, 0.0, 3.25]}


def write_word2vec_text(path):
    lines = [f"{len(WORDS)} 3"] + [f"{w} {' '.join(map(str, v))}" for w, v in WORDS.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_glove(path):
    lines = [f"{w} {' '.join(map(str, v))}" for w, v in WORDS.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_word2vec_binary(path, newline=False):
    body = f"{len(WORDS)} 3\n".encode()
    for word, vector in WORDS.items():
        body += word.encode() + b" " + struct.pack("<3f", *vector) + (b"\n" if newline else b"")
    path.write_bytes(body)
    return path


@pytest.mark.parametrize(
    "writer, expected_format",
    [
        (write_word2vec_text, "word2vec text"),
        (write_glove, "GloVe text"),
        (write_word2vec_binary, "word2vec binary"),
        (lambda path: write_word2vec_binary(path, newline=True), "word2vec binary"),
    ],
)
def test_each_vector_format_is_detected_and_read_exactly(tmp_path, writer, expected_format):
    vectors = read_word_vectors(writer(tmp_path / "vectors"))
    assert vectors.format == expected_format
    assert vectors.dimension == 3
    assert set(vectors.vectors) == set(WORDS)
    for word, vector in WORDS.items():
        np.testing.assert_allclose(vectors.vectors[word], vector, rtol=1e-6)


def test_rows_follow_the_vocabulary_order_and_missing_words_keep_seeded_random_rows(tmp_path):
    path = write_glove(tmp_path / "glove.txt")
    vocabulary = ("film", "plot", "good")  # ranks 1-3: rows 4-6; "plot" has no vector.
    first = load_embedding_matrix(path, vocabulary, num_words=7, dimension=3, seed=1)
    again = load_embedding_matrix(path, vocabulary, num_words=7, dimension=3, seed=1)
    other = load_embedding_matrix(path, vocabulary, num_words=7, dimension=3, seed=2)
    assert first.matrix.shape == (7, 3) and first.matrix.dtype == np.float32
    np.testing.assert_allclose(first.matrix[4], WORDS["film"], rtol=1e-6)
    np.testing.assert_allclose(first.matrix[6], WORDS["good"], rtol=1e-6)
    assert (first.missing, first.found) == (1, 2)
    # The missing word's row and the reserved rows are drawn from the seed, small as Keras's.
    np.testing.assert_array_equal(first.matrix, again.matrix)
    assert not np.array_equal(first.matrix[5], other.matrix[5])
    assert np.all(np.abs(first.matrix[[0, 1, 2, 5]]) <= 0.05)


def test_words_beyond_num_words_are_not_counted_missing(tmp_path):
    vectors = read_word_vectors(write_glove(tmp_path / "glove.txt"))
    init = build_embedding_matrix(vectors, ("good", "plot", "x"), num_words=5, dimension=3, seed=0)
    # num_words=5 keeps one word (rank 1 -> row 4): "good", found.
    assert (init.missing, init.found) == (0, 1)


def test_a_dimension_mismatch_is_refused_in_one_line_naming_both(tmp_path):
    path = write_word2vec_text(tmp_path / "w2v.txt")
    with pytest.raises(ValueError) as caught:
        load_embedding_matrix(path, ("good",), num_words=10, dimension=16, seed=0)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("embedding_dim: got 16") and "dimension 3" in message


def test_a_missing_or_broken_file_is_a_one_line_error_naming_embeddings(tmp_path):
    with pytest.raises(ValueError, match=r"^embeddings: no such file"):
        read_word_vectors(tmp_path / "absent.txt")
    broken = tmp_path / "broken.txt"
    broken.write_text("good 1 2 3\nbad 1 2\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"^embeddings: line 2 has 2 values, not 3"):
        read_word_vectors(broken)


def test_the_config_accepts_a_vector_source_and_refuses_an_empty_one():
    assert TrainConfig(embeddings="runs:/abc/vectors/word2vec.txt").embeddings_trainable
    with pytest.raises(ValueError, match="^embeddings:"):
        TrainConfig(embeddings=" ")
    with pytest.raises(ValueError, match="^embeddings:"):
        parse_runs_uri("runs:/abc")


def test_vectors_of_another_digest_or_split_are_refused_in_one_line():
    config = TrainConfig(seed=7, val_split=0.2)
    tags = {"data_digest": "d1", "split.seed": "7", "split.val_split": "0.2"}
    check_vector_lineage("r1", tags, config, "d1")  # The same data and split pass.
    for bad_tags, digest, expected in [
        (tags, "d2", "data digest d1 here d2"),
        ({**tags, "split.seed": "8"}, "d1", "seed 8 here 7"),
        ({**tags, "split.val_split": "0.3"}, "d1", "val_split 0.3 here 0.2"),
    ]:
        with pytest.raises(ValueError) as caught:
            check_vector_lineage("r1", bad_tags, config, digest)
        message = str(caught.value)
        assert "\n" not in message and message.startswith("embeddings: the vectors of run r1")
        assert expected in message


def test_a_model_starts_from_the_given_rows_and_freezes_them_on_request():
    from rnn_tracking.model import build_model

    config = TrainConfig(num_words=6, embedding_dim=2, maxlen=4, embeddings_trainable=False)
    matrix = np.arange(12, dtype=np.float32).reshape(6, 2)
    model = build_model(config, embedding_matrix=matrix)
    embedding = model.get_layer("embedding")
    np.testing.assert_array_equal(embedding.get_weights()[0], matrix)
    assert not embedding.trainable
    with pytest.raises(ValueError, match="^embedding_matrix: got shape"):
        build_model(config, embedding_matrix=matrix[:5])


@pytest.mark.slow
def test_vectors_are_trained_on_the_training_split_only(tmp_path):
    pytest.importorskip("gensim")
    from rnn_tracking.embeddings import train_word2vec

    # Every training review is "alpha beta ..."; validation or test reviews alone hold
    # their marker word, so it must get no vector.
    rows = ["text,label,split"]
    for i in range(24):
        rows.append(f"alpha beta gamma train{i % 2},{'pos' if i % 2 else 'neg'},train")
    for i in range(8):
        rows.append(f"alpha testonly beta,{'pos' if i % 2 else 'neg'},test")
    path = tmp_path / "reviews.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    config = TrainConfig(
        data=str(path), text_column="text", label_column="label", split_column="split"
    )
    tokens, digest = load_training_tokens(config)
    # 24 training rows, 20% of them held out for validation.
    assert len(tokens) == 19 and digest
    words, matrix = train_word2vec(tokens, EmbedOptions(vector_size=4, min_count=1), seed=0)
    assert {"alpha", "beta", "gamma"} <= set(words)
    assert "testonly" not in words
    assert matrix.shape == (len(words), 4)
