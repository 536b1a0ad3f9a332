"""Requirement pins of logged models: what a logged Keras model needs to load, named so that
MLflow need not infer it."""

from __future__ import annotations

# What a logged Keras model (and the text model around it) needs to load; tensorflow-cpu may
# stand in for tensorflow. MLflow adds its own pin itself.
MODEL_PACKAGES = ("tensorflow", "tensorflow-cpu", "keras", "numpy")


def list_model_requirements(packages: tuple[str, ...]) -> list[str]:
    """Pins each of `packages` that is installed here (`keras==3.8.0`), skipping the others.

    Naming them spares MLflow's requirement inference, which loads the model again in a
    subprocess and costs several seconds per run. A package may be missing by design:
    `tensorflow-cpu` stands in for `tensorflow` on some installs.
    """
    from importlib.metadata import PackageNotFoundError, version

    requirements = []
    for package in packages:
        try:
            requirements.append(f"{package}=={version(package)}")
        except PackageNotFoundError:
            continue
    return requirements
