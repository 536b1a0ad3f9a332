"""NBSVM's logistic-regression variant ("NB-LR", Wang and Manning 2012), one-vs-rest.

Features are binarized word uni+bigram counts, each column scaled by the Naive Bayes
log-count ratio of a class against the rest,

    r = log((p / |p|_1) / (q / |q|_1)),  p = alpha + sum of the class's rows,
                                         q = alpha + sum of the other rows,

and a liblinear logistic regression is fitted on the scaled rows. Logistic regression does
as well as the paper's SVM here and gives probabilities, which the report's losses and the
promotion gate's predictions need. Two classes make one ratio and one model (class 1
against class 0); three or more make one ratio and one binary model per class, whose
class-1 probabilities are normalized to sum to one per review (scikit-learn's
OneVsRestClassifier does the same).
"""

from __future__ import annotations

import numpy as np

NBSVM_ARCH = "nbsvm"
# Wang and Manning's smoothing: add-one counts, so a term never seen in one class gets a
# finite ratio.
NB_ALPHA = 1.0
SOLVER = "liblinear"


def compute_log_count_ratio(x, positive: np.ndarray, alpha: float = NB_ALPHA) -> np.ndarray:
    """Returns r (d,) of a binary count matrix x (n, d) for the rows where `positive` is true.

    `x` is a scipy sparse or dense array of 0/1 counts; `positive` is a bool array (n,).
    """
    positive = np.asarray(positive, dtype=bool)
    p = alpha + np.asarray(x[positive].sum(axis=0), dtype=np.float64).ravel()
    q = alpha + np.asarray(x[~positive].sum(axis=0), dtype=np.float64).ravel()
    return np.log((p / p.sum()) / (q / q.sum()))


def scale_columns(x, r: np.ndarray):
    """Returns x (n, d) with column j multiplied by r[j], sparse in, sparse CSR out."""
    import scipy.sparse

    return scipy.sparse.csr_matrix(x).multiply(r.astype(np.float32)).tocsr()


class NBLogisticRegression:
    """NB-LR with scikit-learn's fit/predict/predict_proba and coef_/intercept_ shapes.

    `coef_` is (1, d) for two classes, (K, d) else; each row is the weights on that
    model's scaled features. `ratios_` holds the matching log-count ratios (same shape).
    """

    def __init__(
        self, C: float = 1.0, alpha: float = NB_ALPHA, max_iter: int = 1000, random_state=None
    ):
        self.C, self.alpha, self.max_iter, self.random_state = C, alpha, max_iter, random_state

    def _fit_one(self, x, positive: np.ndarray):
        """Fits one binary model of `positive` against the rest; returns (r, model)."""
        from sklearn.linear_model import LogisticRegression

        r = compute_log_count_ratio(x, positive, self.alpha)
        model = LogisticRegression(
            C=self.C, solver=SOLVER, max_iter=self.max_iter, random_state=self.random_state
        )
        model.fit(scale_columns(x, r), positive.astype(np.int32))
        return r, model

    def fit(self, x, y: np.ndarray) -> NBLogisticRegression:
        """Fits on binary counts x (n, d) and class indices y (n,); returns self."""
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(
                f"y: got {len(self.classes_)} class in the training split; valid values are "
                "labels of at least two classes."
            )
        targets = self.classes_[1:] if len(self.classes_) == 2 else self.classes_
        fitted = [self._fit_one(x, y == target) for target in targets]
        self.ratios_ = np.stack([r for r, _ in fitted])
        self.models_ = [model for _, model in fitted]
        self.coef_ = np.vstack([model.coef_ for model in self.models_])
        self.intercept_ = np.concatenate([model.intercept_ for model in self.models_])
        return self

    def predict_proba(self, x) -> np.ndarray:
        """Returns class probabilities (n, K) in the order of `classes_`."""
        positive = np.column_stack(
            [
                model.predict_proba(scale_columns(x, r))[:, 1]
                for r, model in zip(self.ratios_, self.models_, strict=True)
            ]
        )
        if len(self.classes_) == 2:
            return np.column_stack([1.0 - positive[:, 0], positive[:, 0]])
        total = positive.sum(axis=1, keepdims=True)
        # A review every model rejects outright gets the uniform distribution.
        return np.where(
            total > 0, positive / np.where(total > 0, total, 1.0), 1 / positive.shape[1]
        )

    def predict(self, x) -> np.ndarray:
        """Returns the most probable class (n,) of each row."""
        return self.classes_[np.argmax(self.predict_proba(x), axis=1)]
