"""Server-side application state of one labeling workspace.

One :class:`AppState` per server process. Only commands (through the dispatcher) change it;
callbacks read it under the dispatcher's lock. ``versions`` holds one counter per part of the
page; a callback compares the counters it last rendered with these and sends only what changed.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ssvae.data import Dataset
from ssvae.labels import LabelStore
from ssvae.models_registry import ModelRegistry
from ssvae.predictions import Predictions
from ssvae.ranking import (DEFAULT_STRATEGY, REPRESENTATION_STRATEGIES, STRATEGIES, STRATEGY_LABELS,
                           auto_phase, rank, trust_of)

COLOR_MODES = ("label", "predicted", "uncertainty", "truth", "component")
#: colourings that show the classifier's output: meaningless until it has trained with labels
CLASSIFIER_COLORS = ("predicted", "uncertainty")
COLOR_NAMES = {"label": "User label", "predicted": "Predicted class",
               "uncertainty": "Uncertainty", "truth": "Ground truth (evaluation only)",
               "component": "Mixture component"}
STRATEGY_NAMES = STRATEGY_LABELS  # the one list of strategies lives in ssvae.ranking
#: the parts of the page that version counters track
PARTS = ("labels", "selection", "batch", "predictions", "color", "queue", "training", "models")
#: the parts that belong to one browser tab (its session), not to the whole app
SESSION_PARTS = ("selection", "batch")
#: the session the current thread acts for (a browser tab's id; None: the app's own)
_SESSION: ContextVar[str | None] = ContextVar("ssvae_session", default=None)


@dataclass
class Session:
    """What belongs to one browser tab: its selection, map selection, undo and redo."""

    selected: int | None = None
    batch: tuple[int, ...] = ()
    undo_stack: list[dict] = field(default_factory=list)
    redo_stack: list[dict] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=lambda: {p: 0 for p in SESSION_PARTS})
    #: the app's notices (e.g. skipped command-log lines) were shown to this tab
    told: bool = False


class LabelDigest:
    """An order-free 64-bit digest of the labels, updated per change in O(1).

    The command log stores it after every label change; on start-up a mismatch with the
    labels.csv on disk means the file changed outside the page. (``LabelStore.fingerprint``
    hashes every label, which costs milliseconds per label action at tens of thousands.)
    """

    MASK = (1 << 64) - 1

    def __init__(self, labels: dict[int, int] | None = None):
        self.value = 0
        for s, l in (labels or {}).items():
            self.add(s, l)

    @staticmethod
    def _h(serial: int, label: int) -> int:
        import hashlib

        return int.from_bytes(hashlib.blake2b(f"{serial}:{label}".encode(), digest_size=8).digest(), "little")

    def add(self, serial: int, label: int) -> None:
        self.value = (self.value + self._h(serial, label)) & self.MASK

    def remove(self, serial: int, label: int) -> None:
        self.value = (self.value - self._h(serial, label)) & self.MASK

    def hex(self) -> str:
        return f"{self.value:016x}"


@dataclass
class Workspace:
    """Where one data set's dashboard files live (``artifacts/workspace/<dataset>/``: command
    log, store) and its models (``models/<name>/``); ``predictions`` and ``checkpoint`` are
    the selected model's."""

    root: Path

    @property
    def models(self) -> ModelRegistry:
        return ModelRegistry(self.root)

    @property
    def model(self) -> str:
        """The selected model's name."""
        return self.models.selected()

    @property
    def model_root(self) -> Path:
        return self.models.folder()

    @property
    def command_log(self) -> Path:
        return self.root / "commands.jsonl"

    @property
    def predictions(self) -> Path:
        return self.model_root / "predictions.npz"

    @property
    def store(self) -> Path:
        return self.root / "store"

    @property
    def checkpoint(self) -> Path:
        return self.model_root / "checkpoint"


@dataclass
class AppState:
    dataset: Dataset
    labels: LabelStore
    workspace: Workspace
    predictions: Predictions | None = None
    color_by: str = "label"
    strategy: str = DEFAULT_STRATEGY
    diverse: bool = False
    auto_advance: bool = True
    queue_size: int = 20
    #: per browser tab (see :meth:`session`); None is the app's own (CLI, tests, old logs)
    sessions: dict[str | None, Session] = field(default_factory=dict)
    #: things to tell every tab once (one sentence each), e.g. unreadable command-log lines
    notices: list[str] = field(default_factory=list)
    #: (unix time, number of labels) after every change of the labels, for the statistics
    history: list[tuple[float, int]] = field(default_factory=list)
    _versions: dict[str, int] = field(default_factory=lambda: {p: 0 for p in PARTS})
    predictions_mtime: float | None = None
    #: the training worker's handle (a TrainingService; None when the app runs without one)
    worker: Any = field(default=None, repr=False)
    #: the training panel's remembered settings and the last run started from this page
    training: dict = field(default_factory=dict)
    digest: LabelDigest | None = field(default=None, repr=False)
    _queue_cache: tuple | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.digest is None:
            self.reset_digest()

    def reset_digest(self) -> None:
        """Recompute the digest from the store (after another writer's change was merged)."""
        self.digest = LabelDigest(self.labels.statuses())

    # -- sessions: each browser tab has its own selection, undo and redo --------------------
    @contextmanager
    def session(self, sid: str | None):
        """Act for browser tab ``sid`` in this thread (callbacks hold the dispatcher's lock)."""
        token = _SESSION.set(sid if isinstance(sid, str) and sid else None)
        try:
            yield self.current
        finally:
            _SESSION.reset(token)

    @property
    def session_id(self) -> str | None:
        return _SESSION.get()

    @property
    def current(self) -> Session:
        sid = _SESSION.get()
        sess = self.sessions.get(sid)
        if sess is None:
            sess = self.sessions[sid] = Session()
            if sid is not None:  # a new tab starts at the head of the queue
                queue = self.queue()
                own = self.sessions.get(None)
                sess.selected = (int(queue[0]) if len(queue)
                                 else own.selected if own is not None else None)
        return sess

    @property
    def selected(self) -> int | None:
        return self.current.selected

    @selected.setter
    def selected(self, value: int | None) -> None:
        self.current.selected = value

    @property
    def batch(self) -> tuple[int, ...]:
        return self.current.batch

    @batch.setter
    def batch(self, value) -> None:
        self.current.batch = tuple(value)

    @property
    def undo_stack(self) -> list[dict]:
        return self.current.undo_stack

    @property
    def redo_stack(self) -> list[dict]:
        return self.current.redo_stack

    @property
    def versions(self) -> dict[str, int]:
        """The app's counters with this tab's own parts (selection, batch) in them."""
        return {**self._versions, **self.current.versions}

    # -- facts -----------------------------------------------------------------------------
    @property
    def size(self) -> int:
        return self.dataset.size

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.dataset.class_names

    @property
    def has_model(self) -> bool:
        """A trained model's snapshot (not a map-only one of the images)."""
        return self.predictions is not None and self.predictions.has_model

    @property
    def classifier_trained(self) -> bool:
        """Whether class predictions mean something: the model has trained with labels."""
        return self.predictions is not None and self.predictions.classifier_trained

    @property
    def has_mixture(self) -> bool:
        """Whether the predictions carry mixture-prior diagnostics (π, components)."""
        return self.predictions is not None and self.predictions.has_mixture

    def color_mode(self) -> str:
        """The colouring in effect: the chosen one, or user labels while the chosen one needs a
        classifier that has not trained on labels yet (or a mixture prior the model lacks)."""
        if self.color_by in CLASSIFIER_COLORS and not self.classifier_trained:
            return "label"
        if self.color_by == "component" and not self.has_mixture:
            return "label"
        return self.color_by

    def bump(self, *parts: str) -> None:
        for p in parts:
            counters = self.current.versions if p in SESSION_PARTS else self._versions
            counters[p] = counters.get(p, 0) + 1

    def available_strategies(self) -> tuple[str, ...]:
        if not self.has_model:  # the map of the images: typical images of its clusters, or random
            has_rep = self.predictions is not None and self.predictions.embedding is not None
            return tuple(s for s in STRATEGIES
                         if s == "random" or (has_rep and s in REPRESENTATION_STRATEGIES))
        return tuple(s for s in STRATEGIES if s == "random" or s in self.predictions.scores
                     or s in REPRESENTATION_STRATEGIES)

    def effective_strategy(self) -> str:
        return self.strategy if self.strategy in self.available_strategies() else "random"

    def ranks_by_typicality(self) -> bool:
        """Whether the queue holds typical images rather than uncertain ones: ``typiclust``,
        ``auto`` in its typical phase (few labels or a model not trusted yet), or no model."""
        s = self.effective_strategy()
        if not self.has_model:
            return s != "random"
        if s == "auto":
            return auto_phase(int(self.labels.done_mask().sum()), len(self.class_names),
                              trust_of(self.predictions.meta)) == "typiclust"
        return s == "typiclust"

    def score_name(self) -> str | None:
        """The score shown in hovers and in the queue: the strategy's, entropy for random."""
        if not self.has_model:
            return None
        s = self.effective_strategy()
        if s in REPRESENTATION_STRATEGIES:  # they rank by typicality; show the margin
            s = "margin"
        if s not in self.predictions.scores:
            s = "entropy" if "entropy" in self.predictions.scores else next(iter(self.predictions.scores), None)
        return s

    def score(self) -> np.ndarray | None:
        name = self.score_name()
        return None if name is None else self.predictions.scores[name]

    # -- the uncertainty queue -------------------------------------------------------------
    def queue(self) -> np.ndarray:
        """The next Serials to label, from :func:`ssvae.ranking.rank` (cached per version)."""
        key = (self._versions["labels"], self._versions["predictions"], self._versions["queue"])
        if self._queue_cache is not None and self._queue_cache[0] == key:
            return self._queue_cache[1]
        # labeled and skipped images are never offered (the auto strategy counts both as labels)
        labeled = self.labels.done_mask()
        strategy = self.effective_strategy()
        if strategy == "random":
            # one fixed random order (the simulation's too): labeling only removes an image
            out = rank(np.zeros(self.size, np.float32), "random", self.queue_size, labeled)
        elif not self.has_model:  # the map of the images: typical images of its clusters
            out = rank(np.zeros(self.size, np.float32), "typiclust", self.queue_size, labeled,
                       features=self.predictions.embedding, seed=0)
        else:
            out = rank(self.predictions.scores, strategy, self.queue_size, labeled,
                       diverse=self.diverse, latent=self.predictions.latent,
                       features=self.predictions.embedding,
                       typical_features=self.predictions.typical_features,
                       num_classes=len(self.class_names),
                       trusted=trust_of(self.predictions.meta))
        self._queue_cache = (key, out)
        return out

    def skipped_count(self) -> int:
        return len(self.labels.skipped())

    def record_history(self, t: float | None = None) -> None:
        self.history.append((time.time() if t is None else t, len(self.labels)))
