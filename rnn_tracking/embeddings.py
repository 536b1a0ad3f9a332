"""Pretrained word vectors in tracked runs: `embed` makes them, training starts from them.

`track_word2vec` trains word2vec (gensim) on the training split's reviews only, never the
validation or test ones, and logs the vectors (word2vec text format) as the artifact
`VECTORS_ARTIFACT` of a run tagged with the data digest and the fields that decide the split.

`prepare_embeddings` turns a config's `embeddings` into the embedding's starting rows: a
local file is read as it is; `runs:/RUN_ID/PATH` is downloaded first, and refused in one line
when that run's vectors were trained on other data or another split (their training reviews
may be this run's validation or test reviews). `log_embeddings` records the lineage on the
training run: the `embeddings_missing` metric, the source run's id as a tag, and the matrix
as an MLflow input.

The vector files are read by `rnn_tracking.data.vectors`; this module holds the MLflow side.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnn_tracking.config import NO_EMBEDDINGS, TrainConfig, format_value
from rnn_tracking.data import EmbeddingInit, Splits, load_embedding_matrix
from rnn_tracking.options import EMBED_DATA_FIELDS, EmbedOptions
from rnn_tracking.runs.vocabulary import (
    DATA_DIGEST_TAG,
    EMBEDDINGS_MISSING_METRIC,
    EMBEDDINGS_RUN_TAG,
    SPLIT_SEED_TAG,
    SPLIT_TAG_PREFIX,
)

RUNS_SCHEME = "runs:/"
VECTORS_ARTIFACT = "vectors/word2vec.txt"
# Vectors trained on one split may only start models trained on that same split.
SPLIT_FIELDS = EMBED_DATA_FIELDS
# Compared between the vectors' run and a training run; `data` may name another copy of
# the same content, which the digest checks instead.
CHECKED_SPLIT_FIELDS = tuple(name for name in SPLIT_FIELDS if name != "data")


@dataclass(frozen=True, eq=False)
class PreparedEmbeddings:
    """The starting rows of one training's embedding and where they came from."""

    init: EmbeddingInit
    path: str
    source_run_id: str | None


def parse_runs_uri(uri: str) -> tuple[str, str]:
    """Returns (run id, artifact path) of `runs:/RUN_ID/PATH`; one-line ValueError otherwise."""
    run_id, _, artifact = uri[len(RUNS_SCHEME) :].partition("/")
    if not run_id or not artifact:
        raise ValueError(
            f"embeddings: got {uri!r}; valid values are 'none', a vector file, or "
            "runs:/RUN_ID/PATH (e.g. runs:/RUN_ID/vectors/word2vec.txt)."
        )
    return run_id, artifact


def check_vector_lineage(
    run_id: str, tags: dict[str, str], config: TrainConfig, data_digest: str
) -> None:
    """Refuses, in one line, vectors whose run trained on other data or another split."""
    theirs = tags.get(DATA_DIGEST_TAG)
    differing = [
        f"{name} {tags.get(SPLIT_TAG_PREFIX + name)} here {format_value(getattr(config, name))}"
        for name in CHECKED_SPLIT_FIELDS
        if tags.get(SPLIT_TAG_PREFIX + name, format_value(getattr(config, name)))
        != format_value(getattr(config, name))
    ]
    if theirs not in (None, data_digest) or differing:
        detail = f"data digest {theirs} here {data_digest}" if theirs != data_digest else ""
        detail = "; ".join([part for part in [detail, *differing] if part])
        raise ValueError(
            f"embeddings: the vectors of run {run_id} were trained on another split ({detail}); "
            "valid values are vectors made by `rnn-tracking embed` on this data and split."
        )


def resolve_embeddings(config: TrainConfig, data_digest: str) -> tuple[str, str | None]:
    """Returns (local file, source run id or None) of the config's `embeddings`.

    A `runs:/` URI is checked against the run's tags, then downloaded; a plain path is
    returned as given.
    """
    if not config.embeddings.startswith(RUNS_SCHEME):
        return config.embeddings, None
    import mlflow
    from mlflow.exceptions import MlflowException

    run_id, _ = parse_runs_uri(config.embeddings)
    try:
        run = mlflow.MlflowClient().get_run(run_id)
        check_vector_lineage(run_id, run.data.tags, config, data_digest)
        return mlflow.artifacts.download_artifacts(config.embeddings), run_id
    except MlflowException as error:
        problem = str(error).splitlines()[0]
        raise ValueError(
            f"embeddings: cannot read {config.embeddings!r} ({problem}); valid values are "
            "'none', a vector file, or runs:/RUN_ID/PATH of an existing run."
        ) from None


def prepare_embeddings(config: TrainConfig, splits: Splits) -> PreparedEmbeddings | None:
    """Returns the embedding's starting rows for the config, or None for `embeddings=none`.

    Raises one-line ValueErrors (naming `embeddings` or `embedding_dim`) before any run opens.
    """
    if config.embeddings == NO_EMBEDDINGS:
        return None
    path, source_run_id = resolve_embeddings(config, splits.digest)
    init = load_embedding_matrix(
        path, splits.vocabulary, config.num_words, config.embedding_dim, config.seed
    )
    return PreparedEmbeddings(init=init, path=path, source_run_id=source_run_id)


def log_embeddings(prepared: PreparedEmbeddings, config: TrainConfig) -> None:
    """Records on the active run where its embedding started: `embeddings_missing` (words of
    the vocabulary without a vector), the source run's id, and the matrix as an input."""
    import mlflow

    mlflow.log_metric(EMBEDDINGS_MISSING_METRIC, prepared.init.missing)
    if prepared.source_run_id:
        mlflow.set_tag(EMBEDDINGS_RUN_TAG, prepared.source_run_id)
    dataset = mlflow.data.from_numpy(
        prepared.init.matrix, source=config.embeddings, name="embeddings"
    )
    mlflow.log_input(dataset, context="embeddings")


def train_word2vec(
    token_lists: list[list[str]], options: EmbedOptions, seed: int
) -> tuple[list[str], np.ndarray]:
    """Trains word2vec on tokenized reviews; returns the words (most frequent first) and
    their float32 vectors (len(words), vector_size)."""
    from gensim.models import Word2Vec

    model = Word2Vec(
        sentences=token_lists,
        vector_size=options.vector_size,
        window=options.window,
        min_count=options.min_count,
        sg=int(options.sg),
        epochs=options.epochs,
        workers=options.workers,
        seed=seed,
    )
    words = list(model.wv.index_to_key)
    return words, np.asarray(model.wv.vectors, dtype=np.float32)


def track_word2vec(config: TrainConfig, options: EmbedOptions) -> tuple[str, str, int]:
    """Trains word2vec on the training split and logs the vectors in a new run.

    Returns (run id, the vectors' `runs:/` URI, the number of words). The run is tagged
    `data_digest`, `split_seed` and `split.<field>` for each field that decides the split.
    """
    import tempfile

    import mlflow

    from rnn_tracking import runs
    from rnn_tracking.data import load_training_tokens, write_word2vec_text

    token_lists, digest = load_training_tokens(config)
    words, matrix = train_word2vec(token_lists, options, config.seed)
    if not words:
        raise ValueError(
            f"min_count: got {options.min_count}, which leaves no word of the "
            f"{len(token_lists)} training reviews; valid values are smaller integers."
        )
    tags = {
        runs.DATA_DIGEST_TAG: digest,
        SPLIT_SEED_TAG: str(config.seed),
        **{SPLIT_TAG_PREFIX + name: format_value(getattr(config, name)) for name in SPLIT_FIELDS},
    }
    name = f"word2vec-{'sg' if options.sg else 'cbow'}-{options.vector_size}d"
    with runs.open_run(name, tags=tags) as run:
        params = {name: format_value(getattr(config, name)) for name in SPLIT_FIELDS}
        params |= {
            key: format_value(getattr(options, key))
            for key in ("sg", "vector_size", "window", "epochs", "min_count")
        }
        mlflow.log_params(params)
        mlflow.log_metrics({"vector_words": len(words), "training_reviews": len(token_lists)})
        with tempfile.TemporaryDirectory() as scratch:
            path = write_word2vec_text(Path(scratch) / Path(VECTORS_ARTIFACT).name, words, matrix)
            mlflow.log_artifact(str(path), artifact_path=str(Path(VECTORS_ARTIFACT).parent))
        run_id = run.info.run_id
    return run_id, f"{RUNS_SCHEME}{run_id}/{VECTORS_ARTIFACT}", len(words)
