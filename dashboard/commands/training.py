"""Training commands: start, stop, retrain as you label; and the training form's schema.

The worker is a ``TrainingService`` on ``state.worker`` (no JAX in this process). The form's
settings are fields of the config's ``train`` section: their kinds and the range of Epochs
are read off the pydantic model (:class:`ssvae.config.TrainConfig`), and a submitted form is
checked by the config itself (``Config.with_overrides``), so the page allows exactly what a
config file allows.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

from pydantic.fields import FieldInfo

from ssvae.config import TrainConfig
from ssvae.schedule import restart_due, restart_epochs

from dashboard.autoretrain import DEFAULTS as AUTO_DEFAULTS, MAX_EVERY as AUTO_MAX_EVERY, \
    MAX_PAUSE_S as AUTO_MAX_PAUSE_S
from dashboard.commands.base import Command, CommandError, Outcome, register
from dashboard.commands.checks import check_flag, check_number
from dashboard.state import AppState
from dashboard.text import plural

#: the settings the training panel offers: keys of the config's train section and their labels
TRAIN_LABELS: dict[str, str] = {
    "learning_rate": "Learning rate",
    "batch_size": "Batch size",
    "classification_weight": "Classification weight",
    "kl_weight": "KL weight",
    "unlabeled_weight": "Unlabeled weight",
}


def _field(key: str) -> FieldInfo:
    return TrainConfig.model_fields[key]


def _kind(key: str) -> type:
    """int or float: the type of the config field (``float | None`` counts as float)."""
    annotation = _field(key).annotation
    return int if annotation is int else float


def _bounds(key: str) -> tuple[float | None, float | None]:
    """The inclusive bounds of a config field from its ``Field(ge=, le=)`` constraints."""
    low = high = None
    for constraint in _field(key).metadata:
        low = getattr(constraint, "ge", low)
        high = getattr(constraint, "le", high)
    return low, high


#: the form's settings: (key of the config's train section, label, int or float)
TRAIN_SETTINGS: tuple[tuple[str, str, type], ...] = tuple(
    (key, label, _kind(key)) for key, label in TRAIN_LABELS.items())
#: the range of the form's Epochs: the config's ``train.retrain_epochs`` (a retrain's epochs)
MIN_EPOCHS, MAX_EPOCHS = _bounds("retrain_epochs")


class TrainingRequest(NamedTuple):
    epochs: int
    settings: dict


def check_train_settings(state: AppState, epochs: Any, settings: Any) -> TrainingRequest:
    """Epochs and settings from the browser, checked like the config file (one sentence)."""
    epochs = check_number(epochs, "Epochs", int)
    if not MIN_EPOCHS <= epochs <= MAX_EPOCHS:
        raise CommandError(f"Epochs must be between {MIN_EPOCHS} and {MAX_EPOCHS}, not {epochs}.")
    if not isinstance(settings, dict):
        raise CommandError(f"training settings must be a mapping of names to numbers, not {settings!r}.")
    known = {key: (label, kind) for key, label, kind in TRAIN_SETTINGS}
    unknown = sorted(set(settings) - set(known))
    if unknown:
        raise CommandError(f"training setting '{unknown[0]}' is not one of: {', '.join(known)}.")
    clean = {k: check_number(v, known[k][0], known[k][1]) for k, v in settings.items()}
    state.worker.config.with_overrides({f"train.{k}": v for k, v in clean.items()},
                                       "training settings")  # raises ConfigError with the reason
    return TrainingRequest(epochs, clean)


def restart_from(state: AppState, num_labels: int) -> int | None:
    """The labels the current model's weights began with, when a run on ``num_labels`` labels
    should start from fresh weights instead (``train.restart_unlabeled`` and
    ``train.restart_growth``, :func:`ssvae.schedule.restart_due`); None for a warm run, and
    when no model is loaded or its predictions do not say (written before this rule)."""
    p = state.predictions
    start = p.meta.get("start_labels") if p is not None and p.has_model else None
    if isinstance(start, int) and restart_due(state.worker.config, start, num_labels):
        return start
    return None


def require_worker(state: AppState):
    if state.worker is None:
        raise CommandError("training is not connected in this app (started without a worker).")
    return state.worker


@register
@dataclass
class StartTraining(Command):
    """Train the warm model for ``epochs`` more epochs on a snapshot of the current labels, or a
    fresh one for the first model's epochs when the labels have grown enough since the model
    began (:func:`restart_from`)."""

    name: ClassVar[str] = "start_training"
    epochs: Any = 10
    settings: Any = field(default_factory=dict)
    auto: Any = False  # started by the retrain-as-you-label option, not the Train button

    def validate(self, state) -> TrainingRequest:
        require_worker(state)
        check_flag(self.auto, "auto")
        return check_train_settings(state, self.epochs, self.settings)

    def apply(self, state, change: TrainingRequest):
        labels = state.labels.as_dict()
        start = restart_from(state, len(labels))
        # fresh weights train at least a restart's budget
        epochs = (change.epochs if start is None
                  else max(change.epochs, restart_epochs(state.size, state.worker.config)))
        run_id = state.worker.start_run(labels, epochs, change.settings,
                                        restart=start is not None)  # may refuse
        self.restore(state)
        state.training["run_id"] = run_id
        state.bump("training")
        why = ("this model was trained before any label" if start == 0 else
               f"the labels grew from {start} to {len(labels)} since these weights began")
        how = ("Training started" if start is None else
               f"Training from fresh weights ({why}; fresh weights learn the labels better than "
               "more epochs on the old ones)")
        return Outcome(f"{how}: {plural(epochs, 'epoch')} on {plural(len(labels), 'label')}; "
                       "keep labeling, the map refreshes when it ends.")

    def restore(self, state):
        """The panel shows the settings of the last run again after a restart."""
        if self.auto is True:  # a run the option started: the panel keeps the user's own
            return
        if isinstance(self.settings, dict):
            state.training["settings"] = dict(self.settings)
        if isinstance(self.epochs, int) and not isinstance(self.epochs, bool):
            state.training["epochs"] = self.epochs


@register
@dataclass
class SetAutoRetrain(Command):
    """Retrain as labels arrive (dashboard/autoretrain.py): after ``every`` new labels, or
    after a pause of ``pause_s`` seconds (0: no pause trigger); off by default."""

    name: ClassVar[str] = "auto_retrain"
    on: Any = False
    every: Any = AUTO_DEFAULTS["every"]
    pause_s: Any = AUTO_DEFAULTS["pause_s"]

    def checked(self) -> dict:
        check_flag(self.on, "Retrain as I label")
        every = check_number(self.every, "New labels per run", int)
        if not 1 <= every <= AUTO_MAX_EVERY:
            raise CommandError(f"New labels per run must be between 1 and {AUTO_MAX_EVERY:,}, not {every}.")
        pause = check_number(self.pause_s, "The pause", float)
        if not 0 <= pause <= AUTO_MAX_PAUSE_S:
            raise CommandError(f"The pause must be between 0 and {AUTO_MAX_PAUSE_S:g} seconds, not {pause:g}.")
        return {"on": self.on, "every": every, "pause_s": pause}

    def validate(self, state) -> dict:
        require_worker(state)
        return self.checked()

    def apply(self, state, change: dict):
        state.training["auto"] = change
        state.bump("training")
        if not change["on"]:
            return Outcome("Retraining as you label is off.")
        return Outcome(f"Retraining as you label: a short run after every {plural(change['every'], 'new label')}"
                       + (f" or a {change['pause_s']:g} s pause." if change["pause_s"] else "."))

    def restore(self, state):
        try:
            state.training["auto"] = self.checked()
        except CommandError:
            pass


@register
@dataclass
class StopTraining(Command):
    name: ClassVar[str] = "stop_training"

    def validate(self, state):
        require_worker(state)
        return self

    def apply(self, state, change):
        state.worker.stop_run()  # refuses when nothing runs
        state.bump("training")
        return Outcome("Stopping: the epochs done are kept, and the map refreshes in a moment.")
