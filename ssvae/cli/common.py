"""Options shared by the sub-commands and the config they build (the data set, labels file and
store it opens are :mod:`ssvae.workspace`'s)."""
from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ssvae.config import Config, load_config
from ssvae.data import SOURCES
from ssvae.errors import SSVAEError
from ssvae.paths import WORKSPACE_ENV, configs_root

WORKSPACE_HELP = ("the folder that holds data/ (labels files) and artifacts/ (models, runs, "
                  f"everything written) (default: ${WORKSPACE_ENV}, else the current directory)")


def add_workspace_arg(p: argparse.ArgumentParser, top: bool = False) -> None:
    """``--workspace DIR``: on the ``ssvae`` parser (``top``) and on a sub-command that takes it
    after its name too, without overwriting the first with a default."""
    p.add_argument("--workspace", dest="workspace_root", metavar="DIR", help=WORKSPACE_HELP,
                   default=None if top else argparse.SUPPRESS)


@contextmanager
def workspace_from_args(args: argparse.Namespace) -> Iterator[None]:
    """Run a command in the workspace ``--workspace`` names (if any): it is exported as
    ``$SSVAE_WORKSPACE`` for the command and the processes it starts (the training worker),
    and the previous value is restored afterwards."""
    given = getattr(args, "workspace_root", None)
    if given is None:
        yield
        return
    root = Path(given).expanduser().resolve()
    if not root.is_dir():
        raise SSVAEError(f"--workspace {given}: no such folder; create it first.")
    before = os.environ.get(WORKSPACE_ENV)
    os.environ[WORKSPACE_ENV] = str(root)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(WORKSPACE_ENV, None)
        else:
            os.environ[WORKSPACE_ENV] = before


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
                       help="labels.csv to use (default: data/<dataset>/labels.csv of the workspace)")


def config_from_args(args: argparse.Namespace, **extra) -> Config:
    overrides = {"data.dataset": getattr(args, "dataset", None),
                 "data.labels": getattr(args, "labels", None)}
    classes = getattr(args, "classes", None)
    if classes:
        overrides["data.classes"] = [c.strip() for c in classes.split(",") if c.strip()]
    overrides.update(extra)
    return load_config(getattr(args, "config", None), overrides)
