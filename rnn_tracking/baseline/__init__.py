"""Linear baselines on the neural runs' split: TF-IDF + logistic regression, and NBSVM.

They answer "do the recurrent models beat the simplest strong models?" on exactly the same
train/validation/test rows as `load_splits(config)`, under the same protocol: fit on train,
choose the regularization strength C on validation, evaluate the chosen model once on test.
They run at two budgets:

- `neural`: the same encoded information a recurrent model gets. Each review is its row of
  `load_splits(config).x_train` (etc.): the start mark, then the last `maxlen - 1` tokens
  with every word outside the `num_words` vocabulary as the out-of-vocabulary index 2;
  padding is dropped. The token indices are the "words" of the vectorizer.
- `full`: the whole raw review (`load_text_splits`), tokenized by `data.tokenize` like the
  neural vocabulary, with no vocabulary cut or length limit.

Both models use word unigrams and bigrams (a recurrent model sees word order, so bigrams are
fair) and terms in at least 2 training reviews, and try every C in C_GRID:

- `tfidf_logreg`: sublinear TF-IDF and logistic regression, liblinear's for two classes,
  multinomial (lbfgs) for three or more.
- `nbsvm`: binarized counts scaled by Naive Bayes log-count ratios, then liblinear's
  logistic regression, one-vs-rest for three classes or more (`baseline.nbsvm`).

Each model and budget is one MLflow run with `arch=<model>`, param `budget`, and the metric
names of the neural runs, so it sits in every comparison table (`baseline.record` logs it; only it imports MLflow).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from rnn_tracking.baseline.nbsvm import NB_ALPHA, NBSVM_ARCH, NBLogisticRegression

# DATA_FIELDS is re-exported: the CLI's `baseline` command and MLproject read the same fields.
from rnn_tracking.config import DATA_FIELDS as DATA_FIELDS
from rnn_tracking.config import TrainConfig

# Index 0 of an encoded row is padding (data.PAD_INDEX). data.py (pandas, scikit-learn) is
# imported only when a baseline runs, so the CLI's parser stays fast to build.
PAD_INDEX = 0

BASELINE_ARCH = "tfidf_logreg"
# Every linear baseline, in the order they run; the promotion gate accepts any of them.
MODELS = (BASELINE_ARCH, NBSVM_ARCH)
BUDGETS = ("neural", "full")
C_GRID = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)
# NBSVM's grid stops at 10: on the full IMDB split its validation accuracy peaks at C 0.1 at
# both budgets and falls from 10 on, while liblinear's fits on the NB-scaled counts take
# longest at C 100 and 1000 (docs/report.md, "NBSVM").
NBSVM_C_GRID = (0.01, 0.1, 1.0, 10.0)
NGRAM_RANGE = (1, 2)
MIN_DF = 2
MAX_ITER = 1000
SOLVER = "liblinear"
# liblinear fits two classes only; three or more get one multinomial (softmax) model.
MULTICLASS_SOLVER = "lbfgs"
# The config fields that decide the data a baseline reads (the neural runs' own); the
# token budget only matters at the neural budget.
NEURAL_ONLY_FIELDS = ("num_words", "maxlen", "padding", "truncating")


@dataclass(frozen=True, eq=False)
class BaselineData:
    """The documents of one budget, split as the neural runs split them.

    Each document is a string the vectorizer tokenizes: space-separated token indices at
    the `neural` budget, the raw review at the `full` budget. `y_*` are int32 class
    indices into `classes`.
    """

    budget: str
    train: list[str]
    y_train: np.ndarray
    val: list[str]
    y_val: np.ndarray
    test: list[str]
    y_test: np.ndarray
    source: str
    digest: str
    classes: tuple[str, ...] = ("neg", "pos")


@dataclass(frozen=True)
class BaselineResult:
    """What one baseline fit produced; metrics are measured with the chosen C.

    `val_accuracy_by_c` maps each C tried to its validation accuracy. `train_seconds`
    covers the vectorizer fit and every C's fit and validation, as a neural run's covers
    its epochs; `param_count` is the number of weights plus the intercept.
    """

    budget: str
    best_c: float
    val_accuracy_by_c: dict[float, float]
    best_val_accuracy: float
    best_val_loss: float
    test_accuracy: float
    test_loss: float
    train_seconds: float
    param_count: int
    feature_count: int
    solver: str = SOLVER
    arch: str = BASELINE_ARCH
    best_val_macro_f1: float = float("nan")
    test_macro_f1: float = float("nan")
    # The chosen model's probabilities on each test review, in test-split order: (n,) of
    # class 1 for two classes, (n, K) else; logged as `test_predictions.npz`.
    test_probabilities: np.ndarray | None = field(default=None, compare=False, repr=False)

    def summary_metrics(self) -> dict[str, float]:
        """Returns the metrics under the names the neural runs and the report use."""
        return {
            "best_val_accuracy": self.best_val_accuracy,
            "best_val_loss": self.best_val_loss,
            "test_accuracy": self.test_accuracy,
            "test_loss": self.test_loss,
            "train_seconds": self.train_seconds,
            "param_count": self.param_count,
            "best_val_macro_f1": self.best_val_macro_f1,
            "test_macro_f1": self.test_macro_f1,
        }


def parse_budgets(text: str) -> tuple[str, ...]:
    """Reads a comma-separated list of budgets; raises ValueError naming the valid ones."""
    return parse_names("budgets", text, BUDGETS, f"{', '.join(BUDGETS)} or both")


def parse_models(text: str) -> tuple[str, ...]:
    """Reads a comma-separated list of baseline models; raises ValueError naming the valid ones."""
    return parse_names("models", text, MODELS, ", ".join(MODELS))


def parse_names(option: str, text: str, valid: Sequence[str], spelled: str) -> tuple[str, ...]:
    """Reads `option`'s comma-separated names (repeats dropped, order kept); raises ValueError
    in one line naming the first unknown one and the valid values, `spelled` as shown."""
    names = tuple(dict.fromkeys(part.strip() for part in str(text).split(",") if part.strip()))
    bad = [name for name in names if name not in valid]
    if bad or not names:
        raise ValueError(
            f"{option}: got {(bad or [text])[0]!r}; valid values are {spelled}, comma-separated."
        )
    return names


def encoded_documents(x: np.ndarray) -> list[str]:
    """Turns encoded rows (n, maxlen) into strings of their token indices, padding dropped."""
    return [" ".join(map(str, row[row != PAD_INDEX].tolist())) for row in x]


def load_baseline_data(config: TrainConfig, budget: str) -> BaselineData:
    """Reads the documents of one budget from the source the config names."""
    from rnn_tracking.data import load_splits, load_text_splits

    if budget == "neural":
        splits = load_splits(config)
        return BaselineData(
            budget=budget,
            train=encoded_documents(splits.x_train),
            y_train=splits.y_train,
            val=encoded_documents(splits.x_val),
            y_val=splits.y_val,
            test=encoded_documents(splits.x_test),
            y_test=splits.y_test,
            source=splits.source,
            digest=splits.digest,
            classes=splits.classes,
        )
    texts = load_text_splits(config)
    return BaselineData(
        budget=budget,
        train=texts.train_texts,
        y_train=texts.y_train,
        val=texts.val_texts,
        y_val=texts.y_val,
        test=texts.test_texts,
        y_test=texts.y_test,
        source=texts.source,
        digest=texts.digest,
        classes=texts.classes,
    )


def make_vectorizer(budget: str, arch: str = BASELINE_ARCH):
    """Returns the vectorizer of a budget and model: TF-IDF, or NBSVM's binary counts."""
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

    from rnn_tracking.data import tokenize

    shared = {
        "tokenizer": str.split if budget == "neural" else tokenize,
        "token_pattern": None,
        "lowercase": False,
        "ngram_range": NGRAM_RANGE,
        "min_df": MIN_DF,
        "dtype": np.float32,
    }
    if arch == NBSVM_ARCH:
        return CountVectorizer(binary=True, **shared)
    return TfidfVectorizer(sublinear_tf=True, **shared)


def make_classifier(arch: str, c: float, solver: str, seed: int):
    """Returns one unfitted classifier of a model at regularization strength C."""
    if arch == NBSVM_ARCH:
        return NBLogisticRegression(C=c, alpha=NB_ALPHA, max_iter=MAX_ITER, random_state=seed)
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, solver=solver, max_iter=MAX_ITER, random_state=seed)


def fit_baseline(
    data: BaselineData,
    seed: int,
    c_grid: Sequence[float] | None = None,
    arch: str = BASELINE_ARCH,
) -> BaselineResult:
    """Fits one model on train, picks C by validation accuracy (ties: the smaller C), tests once.

    `c_grid` defaults to the model's own: C_GRID, or NBSVM_C_GRID for `nbsvm`.
    """
    if c_grid is None:
        c_grid = NBSVM_C_GRID if arch == NBSVM_ARCH else C_GRID
    from sklearn.metrics import accuracy_score, f1_score, log_loss

    started = time.perf_counter()
    vectorizer = make_vectorizer(data.budget, arch)
    try:
        x_train = vectorizer.fit_transform(data.train)
    except ValueError as error:
        raise ValueError(
            f"max_reviews: the {len(data.train)} training reviews leave no term in "
            f"{MIN_DF} reviews or more ({error}); valid values are 0 (all) or a larger integer."
        ) from None
    x_val = vectorizer.transform(data.val)
    everyone = list(range(len(data.classes)))
    solver = SOLVER if len(everyone) == 2 or arch == NBSVM_ARCH else MULTICLASS_SOLVER
    best = None
    accuracies: dict[float, float] = {}
    for c in c_grid:
        model = make_classifier(arch, c, solver, seed)
        model.fit(x_train, data.y_train)
        accuracies[c] = float(accuracy_score(data.y_val, model.predict(x_val)))
        if best is None or accuracies[c] > accuracies[best[0]]:
            best = (c, model)
    train_seconds = time.perf_counter() - started
    best_c, model = best
    # The chosen model's one look at the test split.
    x_test = vectorizer.transform(data.test)
    test_probabilities = model.predict_proba(x_test)

    def macro_f1(x, y) -> float:
        return float(
            f1_score(y, model.predict(x), labels=everyone, average="macro", zero_division=0)
        )

    return BaselineResult(
        budget=data.budget,
        best_c=best_c,
        val_accuracy_by_c=accuracies,
        best_val_accuracy=accuracies[best_c],
        best_val_loss=float(log_loss(data.y_val, model.predict_proba(x_val), labels=everyone)),
        test_accuracy=float(accuracy_score(data.y_test, model.predict(x_test))),
        test_loss=float(log_loss(data.y_test, test_probabilities, labels=everyone)),
        train_seconds=train_seconds,
        param_count=int(model.coef_.size + model.intercept_.size),
        feature_count=int(x_train.shape[1]),
        solver=solver,
        arch=arch,
        best_val_macro_f1=macro_f1(x_val, data.y_val),
        test_macro_f1=macro_f1(x_test, data.y_test),
        test_probabilities=(
            test_probabilities[:, 1] if len(everyone) == 2 else test_probabilities
        ).astype(np.float32),
    )


def run_baselines(
    config: TrainConfig, budgets: Sequence[str], models: Sequence[str] = MODELS
) -> list[tuple[BaselineData, BaselineResult]]:
    """Reads every budget once and fits every model on it (nothing is logged), so bad input
    fails before any run."""
    fitted = []
    for budget in budgets:
        data = load_baseline_data(config, budget)
        fitted.extend((data, fit_baseline(data, seed=config.seed, arch=arch)) for arch in models)
    return fitted
