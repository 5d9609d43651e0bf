"""Options shared by the sub-commands and the config they build (the data set, labels file and
store it opens are :mod:`ssvae.workspace`'s)."""
from __future__ import annotations

import argparse

from ssvae.config import Config, load_config
from ssvae.data import SOURCES
from ssvae.paths import configs_root


def add_config_arg(p: argparse.ArgumentParser) -> None:
    shipped = ", ".join(sorted(f.stem for f in configs_root().glob("*.yaml")))
    p.add_argument("--config", default=None, metavar="YAML",
                   help=f"configuration file, or the name of a shipped one: {shipped} "
                        "(default: default)")


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
