"""Several named models per data set, one of them selected. No JAX.

A data set's folder (``artifacts/workspace/<dataset>/``, :func:`ssvae.workspace.dataset_dir`)
holds the page's files (command log, ``store/``) and ``models/<name>/``, one folder per model:

* ``config.yaml`` — the model's ``model``, ``train`` and ``query`` sections (the data set's own
  ``data`` section always wins); a model migrated from the single-model layout has none and
  trains with the config it is opened with
* ``checkpoint`` (``checkpoint.1``, ``checkpoint.2``), ``predictions.npz`` — as before
* ``runs.jsonl`` — one summary per ended run (status, labels, epochs, test accuracy…)
* ``training.json`` — present while a run trains it (the training process's pid)
* ``model.json`` — when and from which config it was created

``selected.json`` (``{"model": NAME}``) names the selected model: the one ``ssvae rank``,
``map``, ``train --resume`` and the page use. The labels (``data/<dataset>/labels.csv``) are
shared by every model. The first use of a data set folder in the old single-model layout moves
its model files into ``models/default/``.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from filelock import FileLock

from ssvae.atomic import atomic_write_text
from ssvae.config import Config, config_from_dict, load_config
from ssvae.errors import SSVAEError

DEFAULT_MODEL = "default"
MODELS = "models"
SELECTED = "selected.json"
CONFIG = "config.yaml"
RUNS = "runs.jsonl"
TRAINING = "training.json"
INFO = "model.json"
#: the files of the single-model layout that belong to the model (moved on migration)
MODEL_FILES = ("checkpoint", "checkpoint.1", "checkpoint.2", "predictions.npz")
#: config sections a model owns; ``data`` is the data set's
MODEL_SECTIONS = ("model", "train", "query")
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")


class ModelError(SSVAEError):
    """A model operation that cannot be done; the message says why in one sentence."""


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise ModelError(f"{name!r} is not a valid model name: use 1 to 40 letters, digits, "
                         "'.', '_' or '-', starting with a letter or digit.")
    return name


def _pid_alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


class ModelRegistry:
    """The models of one data set, in the data set's folder ``root``."""

    def __init__(self, root: str | Path, dataset_name: str | None = None):
        self.root = Path(root)
        self.dataset_name = dataset_name or self.root.name
        self.models_root = self.root / MODELS
        self._lock = FileLock(str(self.root / ".models.lock"), timeout=30)

    # -- layout --------------------------------------------------------------------------------
    def ensure(self) -> None:
        """Create the layout; the first time, move a single-model folder's files into
        ``models/default/`` (nothing is lost) and select it."""
        if self.models_root.is_dir() and (self.root / SELECTED).is_file():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        with self._lock:
            if not self.models_root.is_dir():
                tmp = self.root / f".{MODELS}.new"
                shutil.rmtree(tmp, ignore_errors=True)
                default = tmp / DEFAULT_MODEL
                default.mkdir(parents=True)
                self._write_info(default, source="migrated" if self._old_files() else "created")
                for name in self._old_files():
                    os.replace(self.root / name, default / name)
                os.replace(tmp, self.models_root)
            if not (self.root / SELECTED).is_file():
                names = self._names()
                first = DEFAULT_MODEL if DEFAULT_MODEL in names else (names[0] if names else None)
                if first is None:
                    (self.models_root / DEFAULT_MODEL).mkdir()
                    self._write_info(self.models_root / DEFAULT_MODEL, source="created")
                    first = DEFAULT_MODEL
                self._write_selected(first)

    def _old_files(self) -> list[str]:
        return [n for n in MODEL_FILES if (self.root / n).is_file()]

    def _names(self) -> list[str]:
        if not self.models_root.is_dir():
            return []
        return sorted(p.name for p in self.models_root.iterdir()
                      if p.is_dir() and NAME_RE.fullmatch(p.name))

    def _write_info(self, folder: Path, source: str) -> None:
        atomic_write_text(folder / INFO, json.dumps({"created_at": time.time(), "source": source}))

    def _write_selected(self, name: str) -> None:
        atomic_write_text(self.root / SELECTED, json.dumps({"model": name}))

    # -- reading -------------------------------------------------------------------------------
    def names(self) -> list[str]:
        self.ensure()
        return self._names()

    def selected(self) -> str:
        """The selected model; a selection naming a model that is gone falls back to
        ``default`` (or the first model)."""
        self.ensure()
        try:
            name = json.loads((self.root / SELECTED).read_text(encoding="utf-8")).get("model")
        except (OSError, ValueError, AttributeError):
            name = None
        names = self._names()
        if name in names:
            return name
        return DEFAULT_MODEL if DEFAULT_MODEL in names or not names else names[0]

    def exists(self, name: str) -> bool:
        return isinstance(name, str) and name in self.names()

    def folder(self, name: str | None = None) -> Path:
        """The folder of model ``name`` (default: the selected one); a :class:`ModelError`
        for an unknown name."""
        if name is None:
            return self.models_root / self.selected()
        if not self.exists(name):
            raise self._unknown(name)
        return self.models_root / name

    def _unknown(self, name: Any) -> ModelError:
        return ModelError(f"no model named {name!r} for data set '{self.dataset_name}'; its models "
                          f"are: {', '.join(self._names()) or 'none'}.")

    def config_for(self, name: str, base: Config) -> Config:
        """``base`` with the model's own sections (``model``, ``train``, ``query``) in place."""
        path = self.folder(name) / CONFIG
        if not path.is_file():
            return base
        own = load_config(path)
        raw = base.model_dump(mode="json")
        mine = own.model_dump(mode="json")
        for sec in MODEL_SECTIONS:
            raw[sec] = mine[sec]
        return config_from_dict(raw, str(path))

    def runs(self, name: str) -> list[dict[str, Any]]:
        """The model's ended runs, oldest first (unreadable lines skipped)."""
        path = self.folder(name) / RUNS
        out = []
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        for line in lines:
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if isinstance(row, dict):
                out.append(row)
        return out

    def training(self, name: str) -> dict[str, Any] | None:
        """What trains model ``name`` now (``{"pid", "run_id", "started_at"}``), or None; a
        marker left by a process that is gone does not count."""
        path = self.models_root / name / TRAINING
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return info if isinstance(info, dict) and _pid_alive(info.get("pid")) else None

    def info(self, name: str) -> dict[str, Any]:
        """What ``ssvae models list/show`` and the page's compare table show of one model."""
        folder = self.folder(name)
        runs = self.runs(name)
        try:
            created = json.loads((folder / INFO).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            created = {}
        prior = None
        if (folder / CONFIG).is_file():
            try:
                prior = load_config(folder / CONFIG).model.prior
            except SSVAEError:
                prior = "(unreadable config.yaml)"
        return {"name": name, "folder": str(folder), "selected": name == self.selected(),
                "config": str(folder / CONFIG) if (folder / CONFIG).is_file() else None,
                "prior": prior, "source": created.get("source"),
                "created_at": created.get("created_at"),
                "trained": (folder / "checkpoint").is_file(),
                "has_predictions": (folder / "predictions.npz").is_file(),
                "runs": len(runs), "latest_run": runs[-1] if runs else None,
                "training": self.training(name) is not None}

    # -- changing ------------------------------------------------------------------------------
    def create(self, name: str, config: Config, source: str = "") -> Path:
        """A new, untrained model with ``config``'s model, train and query sections."""
        check_name(name)
        self.ensure()
        with self._lock:
            if name in self._names():
                raise ModelError(f"a model named '{name}' already exists for data set "
                                 f"'{self.dataset_name}'; choose another name.")
            tmp = self.models_root / f".{name}.new"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
            raw = config.model_dump(mode="json")
            atomic_write_text(tmp / CONFIG, yaml.safe_dump({s: raw[s] for s in MODEL_SECTIONS},
                                                           sort_keys=False))
            self._write_info(tmp, source=source or "created")
            os.replace(tmp, self.models_root / name)
        return self.models_root / name

    def select(self, name: str) -> None:
        self.ensure()
        with self._lock:
            if not self.exists(name):
                raise self._unknown(name)
            self._write_selected(name)

    def _refuse_training(self, name: str, what: str) -> None:
        if self.training(name) is not None:
            raise ModelError(f"model '{name}' is training now; stop its run before you {what} it.")

    def delete(self, name: str) -> str:
        """Delete model ``name`` and return the selected model afterwards. Refused for an
        unknown name, the only model, and the selected model while it trains."""
        self.ensure()
        with self._lock:
            names = self.names()
            if name not in names:
                raise self._unknown(name)
            if len(names) == 1:
                raise ModelError(f"model '{name}' is the only model of data set "
                                 f"'{self.dataset_name}'; create another before deleting it.")
            selected = self.selected()
            self._refuse_training(name, "delete")
            if name == selected:
                rest = [n for n in names if n != name]
                selected = DEFAULT_MODEL if DEFAULT_MODEL in rest else rest[0]
                self._write_selected(selected)
            trash = self.models_root / f".{name}.deleted"
            shutil.rmtree(trash, ignore_errors=True)
            os.replace(self.models_root / name, trash)
            shutil.rmtree(trash, ignore_errors=True)
            return selected

    def rename(self, old: str, new: str) -> None:
        check_name(new)
        self.ensure()
        with self._lock:
            names = self.names()
            if old not in names:
                raise self._unknown(old)
            if new in names:
                raise ModelError(f"a model named '{new}' already exists for data set "
                                 f"'{self.dataset_name}'; choose another name.")
            self._refuse_training(old, "rename")
            was_selected = self.selected() == old
            os.replace(self.models_root / old, self.models_root / new)
            if was_selected:
                self._write_selected(new)

    def append_run(self, name: str, summary: dict[str, Any]) -> None:
        """Add one ended run to the model's history (one JSON line, appended under the lock)."""
        self.ensure()
        folder = self.models_root / name
        if not folder.is_dir():  # deleted meanwhile
            return
        line = json.dumps(summary, default=str)
        with self._lock, open(folder / RUNS, "a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())

    @contextmanager
    def training_marker(self, name: str, run_id: str | None = None) -> Iterator[None]:
        """Mark model ``name`` as training by this process for the ``with`` block."""
        self.ensure()
        path = self.models_root / name / TRAINING
        atomic_write_text(path, json.dumps({"pid": os.getpid(), "run_id": run_id,
                                            "started_at": time.time()}))
        try:
            yield
        finally:
            try:
                path.unlink()
            except FileNotFoundError:
                pass
