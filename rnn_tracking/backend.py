"""The Keras backend: which ones exist, whether one is installed, and what a run records.

Keras reads `KERAS_BACKEND` once, when it is first imported, so the backend is a property of
the process: the CLI calls `apply_backend` before anything imports Keras, and refuses a
second, different one in the same process. Nothing here imports Keras or a backend; the
versions come from the installed distributions' metadata.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import sys

from rnn_tracking.config import BACKENDS, TrainConfig

# Measured fastest for this project's models on a CPU (README, "Backends"): 1.3-3x faster
# epochs than TensorFlow, and its XLA compile three times sooner. The field holds it.
DEFAULT_BACKEND = TrainConfig.backend
BACKEND_ENV_VAR = "KERAS_BACKEND"
# The module each backend imports, and how to install it when it is missing.
BACKEND_MODULES = {"jax": "jax", "tensorflow": "tensorflow", "torch": "torch"}
INSTALL_HINTS = {
    "jax": "pip install -e . (jax and jaxlib are dependencies)",
    "tensorflow": "pip install -e . (tensorflow is a dependency)",
    "torch": "pip install -e '.[torch]'",
}
# The distributions whose versions every training run records as tags.
VERSIONED = ("keras", "jax", "jaxlib", "tensorflow", "torch")
BACKEND_TAG = "backend"
BACKEND_VERSION_TAG = "backend_version"
VERSION_TAG_PREFIX = "version."
NOT_INSTALLED = "not installed"


def check_backend(name: str) -> None:
    """Raises ValueError, in one line, when `name` is no backend or is not installed."""
    if name not in BACKENDS:
        raise ValueError(f"backend: got {name!r}; valid values are {', '.join(BACKENDS)}.")
    if importlib.util.find_spec(BACKEND_MODULES[name]) is None:
        raise ValueError(
            f"backend: {name} is not installed in this environment; install it with "
            f"`{INSTALL_HINTS[name]}`, or choose one of "
            f"{', '.join(each for each in BACKENDS if is_installed(each)) or 'none'}."
        )


def is_installed(name: str) -> bool:
    """Tells whether the backend's module can be imported here (without importing it)."""
    return importlib.util.find_spec(BACKEND_MODULES[name]) is not None


def active_backend() -> str | None:
    """Returns the backend Keras runs on in this process, or None if Keras is not imported."""
    keras = sys.modules.get("keras")
    return keras.backend.backend() if keras is not None else None


def apply_backend(name: str) -> None:
    """Makes Keras run on `name` in this process and in the subprocesses it starts.

    Raises ValueError (one line) when the backend is missing, or when Keras was already
    imported here on another backend: Keras cannot switch once imported.
    """
    check_backend(name)
    active = active_backend()
    if active is not None and active != name:
        raise ValueError(
            f"backend: got {name!r}, but Keras was already imported in this process on "
            f"{active!r}; valid values here are {active}, or start a new process."
        )
    os.environ[BACKEND_ENV_VAR] = name


def read_version(distribution: str) -> str:
    """Returns an installed distribution's version, or 'not installed'."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return NOT_INSTALLED


def describe_backend(name: str) -> dict[str, str]:
    """Returns the tags of a run on `name`: the backend, its version, and every version that
    decides the numbers (keras, jax, jaxlib, tensorflow, torch)."""
    versions = {each: read_version(each) for each in VERSIONED}
    return {
        BACKEND_TAG: name,
        BACKEND_VERSION_TAG: versions[name],
        **{f"{VERSION_TAG_PREFIX}{each}": version for each, version in versions.items()},
    }
