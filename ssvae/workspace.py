"""What every client of the library opens from a config: the data set, its labels file and
the label store. The CLI, the dashboard and its training worker all come through here."""
from __future__ import annotations

from pathlib import Path

from ssvae.config import Config
from ssvae.data import Dataset, load_dataset
from ssvae.labels import LabelStore


def dataset_from_config(cfg: Config) -> Dataset:
    d = cfg.data
    return load_dataset(d.dataset, image_size=tuple(d.image_size), color=d.color, classes=d.classes)


def labels_path(cfg: Config, dataset: Dataset) -> Path:
    return Path(cfg.data.labels) if cfg.data.labels else dataset.default_labels_path


def open_store(cfg: Config, dataset: Dataset) -> LabelStore:
    return LabelStore.for_dataset(dataset, labels_path(cfg, dataset))
