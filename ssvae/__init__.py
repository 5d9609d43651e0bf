"""SSVAE active labeling: the model core.

The public API is re-exported here lazily so that importing ``ssvae`` (as the web process
does) never pulls in JAX; only touching the model, trainer or ``predict`` does.
"""
from __future__ import annotations

import importlib

_LAZY = {
    "load_dataset": "ssvae.data",
    "Dataset": "ssvae.data",
    "LabelStore": "ssvae.labels",
    "load_config": "ssvae.config",
    "Config": "ssvae.config",
    "Predictions": "ssvae.predictions",
    "rank": "ssvae.ranking",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ssvae' has no attribute '{name}'")
    return getattr(importlib.import_module(module), name)
