"""The ``ssvae`` console script. Each sub-command lives in its own module with a ``register``.

Expected errors (:class:`ssvae.errors.SSVAEError`) print one line and exit with status 2;
nothing here imports JAX until a command that trains or predicts runs.
"""
from __future__ import annotations

import argparse
import sys

from ssvae.errors import SSVAEError

COMMAND_MODULES = ("data", "labels", "predictions", "train", "rank", "map", "simulate", "evaluate",
                   "compare", "models")
# Other packages add sub-commands through this entry-point group (the web app adds
# `ssvae dashboard`), so the library never imports them.
PLUGIN_GROUP = "ssvae.commands"
DISTRIBUTION = "ssvae-labeling"


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "(not installed)"


def build_parser() -> argparse.ArgumentParser:
    import importlib
    from importlib.metadata import entry_points

    from ssvae.cli.common import add_workspace_arg

    parser = argparse.ArgumentParser(
        prog="ssvae",
        description="Label images with a semi-supervised VAE in the loop.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    add_workspace_arg(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"ssvae.cli.{name}").register(sub)
    for ep in sorted(entry_points(group=PLUGIN_GROUP), key=lambda e: e.name):
        if ep.name in sub.choices:  # a built-in command keeps its name
            continue
        try:
            register = ep.load()
        except ImportError as exc:  # a plugin that cannot load must not take the CLI down
            print(f"ssvae: warning: command '{ep.name}' is unavailable ({exc}).", file=sys.stderr)
            continue
        register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from ssvae.cli.common import workspace_from_args

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with workspace_from_args(args):
            return int(args.func(args) or 0)
    except SSVAEError as exc:
        print(f"ssvae: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and closed early
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("ssvae: interrupted", file=sys.stderr)
        return 130


