"""rnn-tracking: MLflow-tracked experiments with recurrent IMDB text classifiers."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__version__ = "0.1.0"


def export_lazily(
    package: str, homes: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Returns a package's `__getattr__` and `__dir__` that import a name's module on first use.

    `homes` maps each re-exported name to the module of `package` that defines it (PEP 562).
    A package whose rooms import heavy or layered libraries (Optuna, the served model's few
    dependencies) re-exports its names this way, so importing one room loads no other.
    """
    namespace = importlib.import_module(package).__dict__

    def get_attribute(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{home}"), name)
        namespace[name] = value
        return value

    def list_attributes() -> list[str]:
        return sorted(set(namespace) | set(homes))

    return get_attribute, list_attributes
