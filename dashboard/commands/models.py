"""Several models per data set (:mod:`ssvae.models_registry`; the labels are shared): select,
create, rename and delete a model from the page."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

from ssvae.config import load_config
from ssvae.errors import SSVAEError
from ssvae.predictions import Predictions

from dashboard.commands.base import Command, CommandError, Outcome, register
from dashboard.commands.checks import check_choice, check_model_name
from dashboard.state import AppState

#: the configs a model can be created from in the page: shipped ones, or the selected model's
#: config with the training panel's settings ("current")
MODEL_CONFIGS = ("default", "dense", "mixture", "current")


def _known_model(state: AppState, value: Any) -> str:
    name = check_model_name(value, "Model")
    if not state.workspace.models.exists(name):
        raise CommandError(f"there is no model named '{name}'; the models are: "
                           f"{', '.join(state.workspace.models.names())}.")
    return name


def _refuse_while_training(state: AppState, what: str) -> None:
    if state.worker is not None and state.worker.busy():
        raise CommandError(f"a training run is in progress; stop it or wait for it to finish "
                           f"before you {what}.")


def show_selected_model(state: AppState) -> str:
    """Put the selected model's predictions in the page (no retrain) and return what the page
    shows now, as a sentence fragment."""
    path = state.workspace.predictions
    preds, note = None, "no map yet: train it (the training worker draws the map of the images first)"
    if path.is_file():
        try:
            loaded = Predictions.load(path)
            if loaded.fits(state.size, len(state.class_names)):
                preds = loaded
                note = ("its map and queue" if loaded.has_model
                        else "the map of the images; train it for predictions")
            else:
                note = "its predictions do not fit this data set; train it again"
        except SSVAEError as exc:
            note = f"its predictions could not be read ({exc})"
    state.predictions = preds
    try:
        state.predictions_mtime = path.stat().st_mtime if preds is not None else None
    except OSError:
        state.predictions_mtime = None
    state.bump("predictions", "queue", "color", "training", "models")
    return note


@register
@dataclass
class SelectModel(Command):
    """Switch the page and the training worker to another model of the data set: its
    checkpoint, predictions, map, queue and runs (no retrain). The labels stay as they are."""

    name: ClassVar[str] = "select_model"
    logged: ClassVar[bool] = False  # persisted in the data set's selected.json
    model: Any = None

    def validate(self, state) -> str:
        name = _known_model(state, self.model)
        if name != state.workspace.model:
            _refuse_while_training(state, "switch models")
        return name

    def apply(self, state, change: str):
        if state.worker is not None:
            state.worker.load_model(change)  # refuses while a run is queued or training
        state.workspace.models.select(change)
        note = show_selected_model(state)
        return Outcome(f"Model '{change}' selected: {note}.")


class NewModel(NamedTuple):
    name: str
    config: str


@register
@dataclass
class CreateModel(Command):
    """A new, untrained model from a shipped config (default, mixture) or from the selected
    model's config with the training panel's settings (current). Not selected by itself."""

    name: ClassVar[str] = "create_model"
    logged: ClassVar[bool] = False  # the model's folder is the record
    model: Any = None
    config: Any = "default"

    def validate(self, state) -> NewModel:
        name = check_model_name(self.model)
        if state.workspace.models.exists(name):
            raise CommandError(f"a model named '{name}' already exists; choose another name.")
        return NewModel(name, check_choice(self.config, MODEL_CONFIGS, "Config"))

    def apply(self, state, change: NewModel):
        reg = state.workspace.models
        base = (getattr(state.worker, "base_config", None) or state.worker.config
                if state.worker is not None else load_config(None))
        if change.config == "current":
            cfg = reg.config_for(state.workspace.model, base)
            settings = state.training.get("settings") or {}
            overrides = {f"train.{k}": v for k, v in settings.items()
                         if isinstance(v, (int, float)) and not isinstance(v, bool)}
            try:
                cfg = cfg.with_overrides(overrides, "the training panel's settings")
            except SSVAEError:
                pass  # settings the config refuses: the model's own config as it is
            source = f"the settings of model '{state.workspace.model}'"
        else:
            cfg = load_config(change.config)
            source = f"the shipped {change.config} config"
        reg.create(change.name, cfg, source=source)
        state.bump("models")
        return Outcome(f"Model '{change.name}' created from {source} ({cfg.model.prior} prior); "
                       "select it in the list to label and train with it.")


class Renaming(NamedTuple):
    old: str
    new: str


@register
@dataclass
class RenameModel(Command):
    name: ClassVar[str] = "rename_model"
    logged: ClassVar[bool] = False
    model: Any = None
    new_name: Any = None

    def validate(self, state) -> Renaming:
        old = _known_model(state, self.model)
        new = check_model_name(self.new_name, "New name")
        if state.workspace.models.exists(new):
            raise CommandError(f"a model named '{new}' already exists; choose another name.")
        if old == state.workspace.model:
            _refuse_while_training(state, "rename the model it trains")
        return Renaming(old, new)

    def apply(self, state, change: Renaming):
        state.workspace.models.rename(change.old, change.new)  # refuses while it trains
        state.bump("models", "training")
        return Outcome(f"Model '{change.old}' renamed to '{change.new}'.")


@register
@dataclass
class DeleteModel(Command):
    """Delete a model's folder (checkpoint, predictions, runs); never the labels. Deleting the
    selected model switches to ``default`` (or the first model left)."""

    name: ClassVar[str] = "delete_model"
    logged: ClassVar[bool] = False
    model: Any = None

    def validate(self, state) -> str:
        name = _known_model(state, self.model)
        names = state.workspace.models.names()
        if len(names) == 1:
            raise CommandError(f"'{name}' is the only model; create another before deleting it.")
        if name == state.workspace.model:
            _refuse_while_training(state, "delete the model it trains")
        return name

    def apply(self, state, change: str):
        name = change
        was_selected = name == state.workspace.model
        if was_selected and state.worker is not None:
            rest = [n for n in state.workspace.models.names() if n != name]
            state.worker.load_model("default" if "default" in rest else rest[0])
        selected = state.workspace.models.delete(name)  # refuses while it trains
        if not was_selected:
            state.bump("models")
            return Outcome(f"Model '{name}' deleted; the labels are untouched.")
        note = show_selected_model(state)
        return Outcome(f"Model '{name}' deleted; the labels are untouched. Now on model "
                       f"'{selected}': {note}.")
