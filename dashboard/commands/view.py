"""View commands: the map's colouring, the queue's strategy, auto-advance, and loading a new
predictions snapshot. They change what the page shows, never the labels."""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

from ssvae.errors import SSVAEError
from ssvae.predictions import Predictions

from dashboard.commands.base import Command, CommandError, Outcome, register
from dashboard.commands.checks import check_choice, check_flag
from dashboard.state import CLASSIFIER_COLORS, COLOR_MODES, COLOR_NAMES, STRATEGY_NAMES


@register
@dataclass
class SetColorBy(Command):
    name: ClassVar[str] = "color_by"
    mode: Any = "label"

    def validate(self, state):
        check_choice(self.mode, COLOR_MODES, "colouring")
        if self.mode == "truth" and not state.dataset.has_truth:
            raise CommandError("this data set has no ground truth to colour by.")
        if self.mode in CLASSIFIER_COLORS and not state.classifier_trained:
            raise CommandError(f"colouring by {COLOR_NAMES[self.mode].lower()} needs a classifier "
                               "trained with labels; label a few images and train first.")
        if self.mode == "component" and not state.has_mixture:
            raise CommandError("colouring by mixture component needs a model with a mixture prior "
                               "(configs/mixture.yaml); this one has none.")
        return self

    def apply(self, state, change):
        if state.color_by != change.mode:
            state.color_by = change.mode
            state.bump("color")
        return Outcome()

    def restore(self, state):
        if self.mode in COLOR_MODES and (self.mode != "truth" or state.dataset.has_truth):
            state.color_by = self.mode


@register
@dataclass
class SetStrategy(Command):
    name: ClassVar[str] = "strategy"
    strategy: Any = "entropy"
    diverse: Any = False

    def validate(self, state):
        check_choice(self.strategy, tuple(STRATEGY_NAMES), "query strategy")
        check_flag(self.diverse, "diverse batch")
        if self.strategy not in state.available_strategies():
            if not state.has_model:
                raise CommandError(f"the {STRATEGY_NAMES[self.strategy]} strategy needs a trained "
                                   "model; until the first training the queue is in random order.")
            raise CommandError(f"these predictions carry no {STRATEGY_NAMES[self.strategy]} score; "
                               f"available: {', '.join(state.available_strategies())}.")
        return self

    def apply(self, state, change):
        if (state.strategy, state.diverse) != (change.strategy, change.diverse):
            state.strategy, state.diverse = change.strategy, change.diverse
            state.bump("queue", "color")  # hover scores and uncertainty colours follow
        return Outcome()

    def restore(self, state):
        if self.strategy in STRATEGY_NAMES and isinstance(self.diverse, bool):
            state.strategy, state.diverse = self.strategy, self.diverse


@register
@dataclass
class SetAutoAdvance(Command):
    name: ClassVar[str] = "auto_advance"
    on: Any = True

    def validate(self, state):
        return replace(self, on=check_flag(self.on, "auto-advance"))

    def apply(self, state, change):
        state.auto_advance = change.on
        return Outcome()

    def restore(self, state):
        if isinstance(self.on, bool):
            state.auto_advance = self.on


class LoadedPredictions(NamedTuple):
    predictions: Predictions
    path: Path


@register
@dataclass
class LoadPredictions(Command):
    """Swap in a new predictions snapshot (the worker writes it; the page refreshes)."""

    name: ClassVar[str] = "load_predictions"
    logged: ClassVar[bool] = False
    path: Any = None

    def validate(self, state) -> LoadedPredictions:
        path = Path(self.path) if isinstance(self.path, str) else state.workspace.predictions
        try:
            preds = Predictions.load(path)
        except SSVAEError as exc:
            raise CommandError(str(exc)) from None
        if not preds.fits(state.size, len(state.class_names)):
            if not preds.has_model:
                raise CommandError(f"{path}: the map is for {len(preds.map2d)} images, but the data "
                                   f"set has {state.size}.")
            raise CommandError(f"{path}: predictions are for {preds.probs.shape[0]} images and "
                               f"{preds.probs.shape[1]} classes, but the data set has "
                               f"{state.size} images and {len(state.class_names)} classes.")
        return LoadedPredictions(preds, path)

    def apply(self, state, change: LoadedPredictions):
        first = not state.has_model
        before, new = state.predictions, change.predictions
        map_only = (before is not None and before.has_model and before.meta.get("map") == "later"
                    and new.meta.get("map") != "later"
                    and all(before.meta.get(k) == new.meta.get(k) for k in ("step", "labels_fingerprint")))
        state.predictions = change.predictions
        try:
            state.predictions_mtime = change.path.stat().st_mtime
        except OSError:
            state.predictions_mtime = None
        state.bump("predictions", "queue", "color")
        if not change.predictions.has_model:
            return Outcome("The map of the images is ready: lasso a cluster and label it.")
        if map_only:
            return Outcome("The map now shows the latest model.")
        if new.meta.get("map") == "later":  # the worker draws the map next (ssvae.predict)
            return Outcome(("The queue now shows the first trained model" if first else
                            "Predictions refreshed from the latest training run")
                           + "; its map follows in a moment.")
        return Outcome("The map and the queue now show the first trained model." if first
                       else "Predictions refreshed from the latest training run.")
