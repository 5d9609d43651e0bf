"""Options and set-up shared by the sub-commands: config, data set, label store."""
from __future__ import annotations

import argparse
from pathlib import Path

from ssvae.config import Config, load_config
from ssvae.data import SOURCES, Dataset, load_dataset
from ssvae.labels import LabelStore


def add_config_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default=None, metavar="YAML",
                   help="configuration file or name in configs/ (default: configs/default.yaml)")


def add_data_args(p: argparse.ArgumentParser, labels: bool = True) -> None:
    p.add_argument("--dataset", default=None, metavar="SOURCE",
                   help=f"data source: {', '.join(SOURCES)} (default: from the config, mnist)")
    p.add_argument("--classes", default=None, metavar="A,B,…",
                   help="class names, for a source that does not carry its own")
    if labels:
        p.add_argument("--labels", default=None, metavar="CSV",
                       help="labels.csv to use (default: data/<dataset>/labels.csv)")


def config_from_args(args: argparse.Namespace, **extra) -> Config:
    overrides = {"data.dataset": getattr(args, "dataset", None),
                 "data.labels": getattr(args, "labels", None)}
    classes = getattr(args, "classes", None)
    if classes:
        overrides["data.classes"] = [c.strip() for c in classes.split(",") if c.strip()]
    overrides.update(extra)
    return load_config(getattr(args, "config", None), overrides)


def dataset_from_config(cfg: Config) -> Dataset:
    d = cfg.data
    return load_dataset(d.dataset, image_size=tuple(d.image_size), color=d.color, classes=d.classes)


def labels_path(cfg: Config, dataset: Dataset) -> Path:
    return Path(cfg.data.labels) if cfg.data.labels else dataset.default_labels_path


def open_store(cfg: Config, dataset: Dataset) -> LabelStore:
    return LabelStore.for_dataset(dataset, labels_path(cfg, dataset))
