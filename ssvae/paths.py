"""Where the project keeps data and writes artifacts.

Both default to folders of the project checkout (the parent of this package) and can be
moved with the environment variables ``SSVAE_DATA`` and ``SSVAE_ARTIFACTS``.
"""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def data_root() -> Path:
    return Path(os.environ.get("SSVAE_DATA", PROJECT_ROOT / "data"))


def artifacts_root() -> Path:
    return Path(os.environ.get("SSVAE_ARTIFACTS", PROJECT_ROOT / "artifacts"))


def configs_root() -> Path:
    return PROJECT_ROOT / "configs"
