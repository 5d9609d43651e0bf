"""What every client of the library opens from a config: the data set, its labels file and
the label store; and where a data set's *current model* lives. The CLI, the dashboard and its
training worker all come through here.

A data set has one folder, :func:`dataset_dir` (``<workspace>/artifacts/workspace/<dataset>/``:
the page's command log and store), and in it several named models (:func:`models`,
:mod:`ssvae.models_registry`), one of them selected. The current model is the selected one's
folder :func:`model_dir` (``…/<dataset>/models/<name>/``): the page's training worker and
``ssvae train`` both publish there (``checkpoint``, then ``predictions.npz``), and ``ssvae
rank``, ``ssvae map``, ``ssvae train --resume`` and the page read it unless told otherwise.
"""
from __future__ import annotations

from pathlib import Path

from ssvae.config import Config
from ssvae.data import Dataset, load_dataset
from ssvae.errors import CheckpointError
from ssvae.labels import LabelStore
from ssvae.models_registry import ModelRegistry
from ssvae.paths import artifacts_root

#: file names inside a model folder (the worker's and ``ssvae train``'s)
CHECKPOINT = "checkpoint"
PREDICTIONS = "predictions.npz"


def dataset_from_config(cfg: Config) -> Dataset:
    d = cfg.data
    return load_dataset(d.dataset, image_size=tuple(d.image_size), color=d.color, classes=d.classes)


def labels_path(cfg: Config, dataset: Dataset) -> Path:
    return Path(cfg.data.labels) if cfg.data.labels else dataset.default_labels_path


def open_store(cfg: Config, dataset: Dataset) -> LabelStore:
    return LabelStore.for_dataset(dataset, labels_path(cfg, dataset))


def dataset_dir(dataset_name: str) -> Path:
    """The folder of a data set's page files (command log, store) and of its models."""
    return artifacts_root() / "workspace" / dataset_name


def models(dataset_name: str) -> ModelRegistry:
    """The data set's models (the single-model layout is migrated on first use)."""
    return ModelRegistry(dataset_dir(dataset_name), dataset_name)


def model_dir(dataset_name: str) -> Path:
    """The folder of a data set's current model: the selected one's."""
    return models(dataset_name).folder()


def _no_model(dataset_name: str, what: str, option: str) -> CheckpointError:
    return CheckpointError(f"no trained model for data set '{dataset_name}' yet (no {what} in "
                           f"{model_dir(dataset_name)}); train one with 'ssvae train' or in the "
                           f"page ('ssvae dashboard'), or name a run folder with {option} DIR.")


def current_predictions(dataset_name: str, required: bool = True) -> Path | None:
    """The predictions snapshot of the data set's current model; ``None`` (or, if
    ``required``, a :class:`CheckpointError` naming where it looked) when there is none."""
    path = model_dir(dataset_name) / PREDICTIONS
    if path.is_file():
        return path
    if required:
        raise _no_model(dataset_name, PREDICTIONS, "--run")
    return None


def current_checkpoint(dataset_name: str) -> Path:
    """The checkpoint of the data set's current model (older good ones lie beside it as
    ``checkpoint.1``, ``checkpoint.2``); a :class:`CheckpointError` naming where it looked when
    there is none."""
    path = model_dir(dataset_name) / CHECKPOINT
    if path.is_file() or path.with_name(f"{CHECKPOINT}.1").is_file():
        return path
    raise _no_model(dataset_name, CHECKPOINT, "--resume")
