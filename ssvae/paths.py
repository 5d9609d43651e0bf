"""Where the project reads what it ships and writes what it makes.

What ships inside the installed packages (package data, read-only): the configurations
(``ssvae/configs/``, a symlink to the checkout's top-level ``configs/``), the bundled MNIST
subset (``ssvae/data/bundled/``) and the page's CSS and scripts (``dashboard/assets/``, a
symlink to ``assets/``, found by the app itself).

What the user makes goes to a *workspace*: the current directory, or the folder named by
``ssvae --workspace DIR`` or the environment variable ``SSVAE_WORKSPACE``. Its ``data/`` holds
labels files and data sets the user adds (``data/<dataset>/labels.csv``, the full MNIST IDX
files in ``data/mnist/``); its ``artifacts/`` holds runs, the data sets' current models and
every other output. ``SSVAE_DATA`` and ``SSVAE_ARTIFACTS`` move those two folders on their own.
A workspace inside the Python installation (site-packages) is refused.
"""
from __future__ import annotations

import os
import sysconfig
from importlib import resources
from pathlib import Path

from ssvae.errors import SSVAEError

WORKSPACE_ENV = "SSVAE_WORKSPACE"


def workspace_root() -> Path:
    """The user's workspace: ``$SSVAE_WORKSPACE`` if set, else the current directory."""
    value = os.environ.get(WORKSPACE_ENV)
    root = Path(value).expanduser() if value else Path.cwd()
    root = root.resolve()
    if not root.is_dir():
        raise SSVAEError(f"the workspace {root} (${WORKSPACE_ENV}) is not a folder; create it "
                         "or point the variable at one.")
    for key in ("purelib", "platlib"):
        lib = Path(sysconfig.get_path(key)).resolve()
        if root == lib or lib in root.parents:
            raise SSVAEError(f"the workspace {root} is inside the Python installation ({lib}); "
                             f"run ssvae from another folder or set --workspace DIR.")
    return root


def data_root() -> Path:
    """Labels files and user-supplied data sets (``<workspace>/data``, or ``$SSVAE_DATA``)."""
    value = os.environ.get("SSVAE_DATA")
    return Path(value).expanduser() if value else workspace_root() / "data"


def artifacts_root() -> Path:
    """Everything the program writes (``<workspace>/artifacts``, or ``$SSVAE_ARTIFACTS``)."""
    value = os.environ.get("SSVAE_ARTIFACTS")
    return Path(value).expanduser() if value else workspace_root() / "artifacts"


def package_data(package: str, name: str) -> Path:
    """A folder or file shipped inside ``package`` (on disk: wheels install unzipped)."""
    found = resources.files(package) / name
    if not isinstance(found, Path):
        raise SSVAEError(f"{package} is installed in a form whose files are not on disk "
                         f"({found}); install it from the wheel with pip.")
    return found


def configs_root() -> Path:
    """The shipped configurations (``default.yaml``, ``quick.yaml``, …)."""
    return package_data("ssvae", "configs")


def bundled_data_root() -> Path:
    """The shipped data: the 5 000-digit MNIST subset and its README (source, licence)."""
    return package_data("ssvae.data", "bundled")
