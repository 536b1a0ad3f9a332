#!/usr/bin/env bash
# GPU check for issue 6: the tutorial's LSTM(8) seconds per epoch on a GPU, with cuDNN
# (recurrent_dropout=0) against without it (recurrent_dropout=0.1 rules cuDNN out), and with
# mixed precision (mixed_float16 layers, Dense output in float32); on TensorFlow also with
# the platform's steps_per_execution=32 and jit_compile=True.
#
# Run from the repo root on a fresh GPU machine:  bash bench/gpu_check.sh
# It needs Python 3 with keras and a backend: TensorFlow (what the platform uses) if it
# imports, else PyTorch (Keras's torch backend also runs LSTM on cuDNN). Without internet,
# carry wheels in .whl/ (keras, namex, optree; see docs/speed.md): they are installed into
# /tmp/site when keras does not import. Data: random token ids of the real shape, 20,000 x 100
# for training and 5,000 x 100 for validation, batch 64. Each variant runs up to 3 epochs and
# stops early past GPU_CHECK_CAP_S seconds (default 30), so the whole check stays under
# 4 minutes. Prints a Markdown table; with $OUT set, also writes $OUT/gpu_check.md.
set -uo pipefail

PY=${PYTHON:-python3}
echo "== $($PY --version 2>&1) at $(command -v "$PY")"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null \
  || echo "nvidia-smi: not available"

if $PY -c "import tensorflow" >/dev/null 2>&1; then
  echo "import tensorflow: ok ($($PY -c 'import tensorflow as tf; print(tf.__version__, tf.config.list_physical_devices("GPU"))' 2>/dev/null))"
  BACKEND=tensorflow
else
  echo "import tensorflow: FAILED"
  if $PY -c "import torch; assert torch.cuda.is_available()" >/dev/null 2>&1; then
    echo "import torch: ok with CUDA; using Keras's torch backend (cuDNN LSTM there too)"
    BACKEND=torch
  else
    echo "neither TensorFlow nor PyTorch with CUDA imports; nothing to measure"
    exit 1
  fi
fi

if ! $PY -c "import keras" >/dev/null 2>&1; then
  if ls .whl/*.whl >/dev/null 2>&1; then
    echo "keras missing: installing the carried wheels from .whl/ into /tmp/site"
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
      --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
  else
    echo "keras does not import and no wheels in .whl/"
    exit 1
  fi
fi

export KERAS_BACKEND=$BACKEND TF_CPP_MIN_LOG_LEVEL=3 PYTHONUNBUFFERED=1
$PY - <<'PYTHON'
import os
import statistics
import time

import keras
import numpy as np
from keras import layers

BACKEND = keras.backend.backend()
CAP_S = float(os.environ.get("GPU_CHECK_CAP_S", "30"))
EPOCHS = 3
print(f"keras {keras.__version__}, backend {BACKEND}")

rng = np.random.default_rng(0)
x = rng.integers(0, 500, size=(25_000, 100)).astype("int32")
y = rng.integers(0, 2, size=25_000).astype("int32")
x_train, y_train, x_val, y_val = x[:20_000], y[:20_000], x[20_000:], y[20_000:]

# name: (recurrent_dropout, dtype policy, compile options); TensorFlow gets the platform's
# own settings too (on a GPU Keras keeps cuDNN over XLA for a cuDNN-eligible LSTM).
VARIANTS = {
    "cuDNN, float32 (tutorial)": (0.0, "float32", {}),
    "recurrent_dropout=0.1 (no cuDNN)": (0.1, "float32", {}),
    "cuDNN, mixed_float16": (0.0, "mixed_float16", {}),
}
if BACKEND == "tensorflow":
    VARIANTS.update(
        {
            "cuDNN, steps_per_execution=32": (0.0, "float32", {"steps_per_execution": 32}),
            "platform defaults (jit_compile, spe=32)": (
                0.0, "float32", {"steps_per_execution": 32, "jit_compile": True}),
            "recurrent_dropout=0.1, platform defaults": (
                0.1, "float32", {"steps_per_execution": 32, "jit_compile": True}),
        }
    )


class Clock(keras.callbacks.Callback):
    """Records each epoch's wall time and stops once the variant has used its cap."""

    def on_train_begin(self, logs=None):
        self.started, self.epochs = time.perf_counter(), []

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(time.perf_counter() - self.epoch_started)
        if time.perf_counter() - self.started > CAP_S:
            self.model.stop_training = True


rows = []
for name, (recurrent_dropout, policy, options) in VARIANTS.items():
    keras.utils.set_random_seed(42)
    model = keras.Sequential(
        [
            keras.Input(shape=(100,), dtype="int32"),
            layers.Embedding(500, 16, dtype=policy),
            layers.LSTM(8, recurrent_dropout=recurrent_dropout, dtype=policy),
            layers.Dense(1, activation="sigmoid", dtype="float32"),
        ]
    )
    optimizer = keras.optimizers.RMSprop(1e-4)
    if policy == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"], **options)
    clock = Clock()
    try:
        model.fit(x_train, y_train, validation_data=(x_val, y_val), batch_size=64,
                  epochs=EPOCHS, callbacks=[clock], verbose=0)
    except Exception as error:  # One failing variant must not hide the others' numbers.
        print(f"{name}: FAILED {type(error).__name__}: {str(error)[:300]}", flush=True)
        continue
    steady = clock.epochs[1:] or clock.epochs
    seconds = statistics.median(steady)
    rows.append((name, seconds, clock.epochs))
    print(f"{name}: epochs {[round(s, 2) for s in clock.epochs]}", flush=True)

base = rows[0][1] if rows else float("nan")
table = [
    f"Backend {BACKEND}, keras {keras.__version__}; LSTM(8) on 20,000 x 100 random ids, "
    "batch 64, 5,000 validation rows. s/epoch: median after the first epoch "
    "(the first alone when the cap stopped a variant after one).",
    "",
    "| variant | s/epoch | samples/s | vs cuDNN float32 | epochs (s) |",
    "|---|---:|---:|---:|---|",
]
for name, seconds, epochs in rows:
    table.append(
        f"| {name} | {seconds:.2f} | {20_000 / seconds:,.0f} | {seconds / base:.2f}x "
        f"| {', '.join(f'{s:.1f}' for s in epochs)} |"
    )
report = "\n".join(table) + "\n"
print()
print(report)
if os.environ.get("OUT"):
    with open(os.path.join(os.environ["OUT"], "gpu_check.md"), "w") as handle:
        handle.write(report)
PYTHON
