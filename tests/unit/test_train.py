"""Training on toy arrays: best-epoch selection, restored weights, one test evaluation."""

import dataclasses

import numpy as np
import pytest
from helpers import make_splits

from rnn_tracking.config import TrainConfig
from rnn_tracking.train import compile_model, select_best_epoch, train_model

TOY = TrainConfig(num_words=10, maxlen=3, units=2, embedding_dim=2, epochs=3, batch_size=2)


def make_toy_splits():
    """Two classes told apart by token 4 versus token 5, 2x3 arrays per split."""
    x = np.array([[1, 4, 4], [1, 5, 5]], dtype="int32")
    y = np.array([1, 0], dtype="int32")
    return make_splits((x, y), vocabulary=("good", "bad"))


def test_best_epoch_is_lowest_finite_validation_loss():
    assert select_best_epoch({"val_loss": [0.9, 0.5, float("nan"), 0.7]}) == 1


@pytest.mark.slow
def test_training_records_every_epoch_metric_and_selects_on_validation(tmp_path):
    checkpoint = tmp_path / "best.keras"
    result = train_model(TOY, make_toy_splits(), checkpoint)
    assert result.epochs_run == 3
    for name in ("loss", "accuracy", "val_loss", "val_accuracy", "epoch_seconds"):
        assert len(result.history[name]) == 3, name
    best = int(np.argmin(result.history["val_loss"]))
    assert result.best_epoch == best + 1
    assert result.best_val_loss == result.history["val_loss"][best]
    assert result.param_count == result.model.count_params()
    assert checkpoint.exists()


@pytest.mark.slow
def test_test_metrics_come_from_restored_best_weights(tmp_path):
    import keras

    splits = make_toy_splits()
    result = train_model(TOY, splits, tmp_path / "best.keras")
    best_model = keras.saving.load_model(tmp_path / "best.keras", safe_mode=True)
    # The checkpoint keeps the training metrics (accuracy, macro-F1); the loss comes first.
    expected_loss = best_model.evaluate(splits.x_test, splits.y_test, verbose=0)[0]
    assert result.test_loss == pytest.approx(expected_loss, rel=1e-5)


def test_same_seed_gives_same_weights():
    first = compile_model(TOY).get_weights()
    second = compile_model(TOY).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


@pytest.mark.slow
def test_extra_callbacks_see_epoch_seconds(tmp_path):
    import keras

    seen = []

    class Recorder(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(logs["epoch_seconds"])

    train_model(TOY, make_toy_splits(), tmp_path / "best.keras", extra_callbacks=[Recorder()])
    assert len(seen) == 3 and all(seconds > 0 for seconds in seen)


@pytest.mark.slow
def test_a_diverged_training_raises_naming_the_epoch_and_the_rate(tmp_path):
    from rnn_tracking.train import TrainingDiverged

    config = TrainConfig(
        num_words=10,
        maxlen=3,
        units=2,
        embedding_dim=2,
        epochs=3,
        batch_size=2,
        optimizer="adam",
        learning_rate=1e38,
        steps_per_execution=1,
    )
    with pytest.raises(TrainingDiverged, match=r"in epoch \d+ \(adam, learning_rate 1e\+38\)"):
        train_model(config, make_toy_splits(), tmp_path / "best.keras")


@pytest.mark.slow
def test_a_finite_training_is_not_called_diverged(tmp_path):
    result = train_model(TOY, make_toy_splits(), tmp_path / "best.keras")
    assert np.isfinite(result.history["loss"]).all()


def test_plateau_schedule_lowers_the_rate_after_an_epoch_without_progress(tmp_path):
    import keras

    from rnn_tracking.train import build_callbacks

    config = TrainConfig(lr_schedule="plateau")
    [plateau] = [
        callback
        for callback in build_callbacks(config, tmp_path / "best.keras")
        if isinstance(callback, keras.callbacks.ReduceLROnPlateau)
    ]
    assert (plateau.monitor, plateau.factor, plateau.patience) == ("val_loss", 0.5, 1)
    assert not any(
        isinstance(callback, keras.callbacks.ReduceLROnPlateau)
        for callback in build_callbacks(TrainConfig(), tmp_path / "best.keras")
    )


@pytest.mark.slow
def test_recipe_knobs_train_end_to_end(tmp_path):
    config = dataclasses.replace(
        TOY,
        pooling="max_mean",
        mask_zero=True,
        spatial_dropout=0.1,
        optimizer="adamw",
        clipnorm=1.0,
        weight_decay=0.01,
        lr_schedule="cosine",
    )
    result = train_model(config, make_toy_splits(), tmp_path / "best.keras")
    assert result.epochs_run == 3 and np.isfinite(result.test_loss)
