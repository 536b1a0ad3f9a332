"""This platform's sweep against Keras Tuner's Hyperband and plain Optuna, on the same clock.

One command runs three searches over the same space file, on the same data and splits, one
after the other, each with the same wall-clock budget (`--minutes` per side):

- `platform`: `rnn-tracking sweep --space ... --n_trials 10000 --timeout <budget>` as a
  subprocess, with its own MLflow store and Optuna journal in a temporary folder: the
  space's sampler and pruner, MLflow tracking of every trial, a model logged per trial. The
  anytime curve comes from the journal (each trial's `datetime_complete` and value); the
  best trial's test accuracy is its MLflow run's `test_accuracy`, which the platform
  measured once on the restored best weights.
- `keras_tuner`: `keras_tuner.Hyperband` over the same space (`max_epochs` = the space's
  epochs, objective val_accuracy, EarlyStopping(val_loss, patience) as in Keras Tuner's
  own tutorial), building each model with `rnn_tracking.train.compile_model`, so the
  models are the platform's. The budget is enforced in `pre_create_trial`, Keras Tuner's
  hook before each new trial: past the deadline it caps the oracle's `max_trials` at the
  trials so far, and `create_trial` then answers STOPPED. The best trial's model (its best
  epoch's checkpoint) is evaluated once on test.
- `optuna`: plain Optuna as its keras example writes it: TPE (seeded) and MedianPruner
  (defaults), an objective that fits with EarlyStopping(val_loss, patience,
  restore_best_weights) and a pruning callback reporting val_accuracy each epoch (what
  optuna-integration's TFKerasPruningCallback does), returns the validation accuracy, and
  `study.optimize(objective, timeout=<budget>)`. The best trial's model is kept (saved
  when a trial beats the best so far) and evaluated once on test: no retraining.

`--sides platform:<pruner>` (median, hyperband, successive_halving, none) runs the
platform's side again with that pruner in place of the space's, everything else equal, so
pruners are compared on the same clock in one run (docs/sweeps.md has the results):

    PYTHONPATH=$PWD .venv/bin/python bench/search_vs_peers.py --minutes 15 \
        --sides platform:median,platform:hyperband,platform:successive_halving \
        --out docs/pruners.md

All sides share one rule: no trial starts after the budget; the trial running at the
deadline finishes (its end is on the curve, after the budget). Each side's objective is
its tool's own: the platform and plain Optuna score a trial by its validation accuracy at
the epoch of lowest val_loss (the restored best weights); Keras Tuner by the highest
val_accuracy of any epoch, which flatters it a little. Test accuracy, measured once per
side on its best trial, is the fair comparison. The platform's clock includes its start
(Python and TensorFlow imports, reading the encoded data from the cache) and MLflow's
logging; the peers' splits are loaded before their clocks start.

It prints a table per side (best validation and test accuracy, trials finished and
pruned, the best validation accuracy so far at 5, 10, ... minutes), the TF-IDF + logistic
regression baseline (`rnn_tracking.baseline`, at the space's num_words and maxlen, or on
the full text when the space tunes them) on the same splits, and how long the platform took
to reach each peer's best. It writes the Markdown to --out, the numbers beside it as .json,
and the anytime curves as a PNG in img/ beside it.

Smoke run (2,000 reviews, 1.5 minutes per side, at most 2 epochs per trial; ~6 minutes):

    PYTHONPATH=$PWD .venv/bin/python bench/search_vs_peers.py --short

The full run (1.5 hours on 2 CPU cores; all 25,000 + 25,000 reviews):

    PYTHONPATH=$PWD .venv/bin/python bench/search_vs_peers.py --space sweeps/small-budget.yaml --minutes 30

Keras Tuner comes with the `bench` extra: `pip install -e '.[bench]'`.

The rooms: `settings` (the command line, the sides, the space copies), `sides` (one runner
per side behind one interface, `run_side`), `side_platform`, `side_keras_tuner` and
`side_optuna` (the runners), `baseline`, `curves` (a side's numbers and anytime curve),
`render` (the Markdown and the PNG), and `__main__` (the command). `bench/search_vs_peers.py`
is the documented entry script; `python -m bench.peers` runs the same.
"""
