"""Every change a user can make, as a small command with ``validate`` and ``apply``.

A command is a dataclass of plain JSON values (so it can be logged and forged payloads can be
checked field by field). ``validate(state)`` raises :class:`CommandError` with one sentence and
must not change anything; ``apply(state)`` makes the change and returns an :class:`Outcome`.
Commands that change labels return an *effect* — the before/after label of every Serial they
touched — which is what undo and redo replay. New commands (the training worker's, for
example) join with the :func:`register` decorator and go through the same dispatcher.
"""
from __future__ import annotations

import math
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ssvae.errors import SSVAEError
from ssvae.labels import SKIP, Update, parse_labels
from ssvae.predictions import Predictions

from dashboard.autoretrain import DEFAULTS as AUTO_DEFAULTS, MAX_EVERY as AUTO_MAX_EVERY, \
    MAX_PAUSE_S as AUTO_MAX_PAUSE_S
from dashboard.state import CLASSIFIER_COLORS, COLOR_MODES, COLOR_NAMES, STRATEGY_NAMES, AppState
from dashboard.text import plural


class CommandError(SSVAEError):
    """A command that cannot be applied; the message is shown in the page."""


@dataclass
class Outcome:
    message: str = ""
    #: for label changes: {"changes": [[serial, before, after], ...]} (None = unlabeled,
    #: "skip" = set aside)
    effect: dict | None = None
    #: extra fields for the command log's entry
    log: dict | None = None
    #: done, but the user must read the message (a warning that stays until dismissed)
    warning: bool = False


COMMANDS: dict[str, type["Command"]] = {}


def register(cls):
    """Class decorator: make a command known by its ``name`` (for the log and for plug-ins)."""
    COMMANDS[cls.name] = cls
    return cls


class Command:
    name: ClassVar[str] = "command"
    #: written to the command log (and so replayed on start-up)
    logged: ClassVar[bool] = True

    def validate(self, state: AppState) -> None:  # pragma: no cover - trivial default
        pass

    def apply(self, state: AppState) -> Outcome:  # pragma: no cover
        raise NotImplementedError

    def restore(self, state: AppState) -> None:
        """Re-apply a logged command's effect on view state when the server starts again.

        Label changes are not replayed (labels.csv is the truth); view commands (selection,
        colouring, strategy) override this to come back as they were left.
        """

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, name: str, args: dict[str, Any]) -> "Command":
        klass = COMMANDS.get(name)
        if klass is None:
            raise CommandError(f"command '{name}' is not known.")
        try:
            return klass(**(args or {}))
        except TypeError as exc:
            raise CommandError(f"command '{name}' has wrong fields ({exc}).") from None


# -- checking values that come from the browser ---------------------------------------------
def check_serial(value: Any, state: AppState, what: str = "Serial") -> int:
    if isinstance(value, bool) or value is None or not isinstance(value, (int, float)):
        shown = "nothing" if value is None else repr(value)
        raise CommandError(f"{what} must be a whole number from 0 to {state.size - 1}, not {shown}.")
    if isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()):
        raise CommandError(f"{what} must be a whole number from 0 to {state.size - 1}, not {value!r}.")
    serial = int(value)
    if not 0 <= serial < state.size:
        raise CommandError(f"{what} {serial} is outside the data set (0–{state.size - 1}).")
    return serial


def check_label(value: Any, state: AppState) -> int:
    names = state.class_names
    allowed = ", ".join(names[:12]) + (", …" if len(names) > 12 else "")
    if isinstance(value, bool) or value is None or not isinstance(value, (int, float)):
        shown = "nothing" if value is None else repr(value)
        raise CommandError(f"label {shown} is not a class; the classes are {allowed} "
                           f"(indices 0–{len(names) - 1}).")
    if isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()):
        raise CommandError(f"label {value!r} is not a class index (0–{len(names) - 1}).")
    label = int(value)
    if not 0 <= label < len(names):
        raise CommandError(f"label {label} is not a class index; the classes are {allowed} "
                           f"(indices 0–{len(names) - 1}).")
    return label


def check_choice(value: Any, allowed: tuple[str, ...], what: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise CommandError(f"{what} {value!r} is not one of: {', '.join(allowed)}.")
    return value


def check_flag(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise CommandError(f"{what} must be true or false, not {value!r}.")
    return value


def _name(state: AppState, label: int | str | None) -> str:
    if label == SKIP:
        return "skipped"
    return "unlabeled" if label is None else state.class_names[label]


def change_labels(state: AppState, changes: dict, expect: dict | None = None) -> Update:
    """Set each Serial of ``changes`` to a class index, :data:`SKIP` or None in one locked
    write of labels.csv (and labels.skipped.csv) that first merges other writers' changes.

    With ``expect`` a Serial that no longer holds the expected value is left alone (undo).
    Returns the store's :class:`~ssvae.labels.Update`; the digest, history and version
    counters follow what was actually written.
    """
    res = state.labels.update(changes, expect)
    if res.external:  # another writer's changes came in with ours
        state.reset_digest()
    else:
        for serial, before, after in res.applied:
            if before is not None:
                state.digest.remove(serial, before)
            if after is not None:
                state.digest.add(serial, after)
    if res.applied or res.external:
        state.record_history()
        state.bump("labels")
    return res


def write_labels(state: AppState, changes: list[list]) -> list[list]:
    """Make the labels hold ``after`` for every [serial, before, after]; returns the
    changes actually made (with the ``before`` found on disk)."""
    return change_labels(state, {s: after for s, _, after in changes}).applied


def _advance_after(state: AppState, serial: int, old_queue: list[int]) -> None:
    """After labeling ``serial``: select the next image in the queue, keeping its place."""
    new_queue = [int(s) for s in state.queue()]
    if not new_queue:
        return
    pos = old_queue.index(serial) if serial in old_queue else 0
    nxt = new_queue[min(pos, len(new_queue) - 1)]
    if nxt != state.selected:
        state.selected = nxt
        state.bump("selection")


# -- selection ---------------------------------------------------------------------------
@register
@dataclass
class Select(Command):
    name: ClassVar[str] = "select"
    serial: Any = None

    def validate(self, state):
        self.serial = check_serial(self.serial, state)

    def apply(self, state):
        if state.selected != self.serial:
            state.selected = self.serial
            state.bump("selection")
        return Outcome()

    def restore(self, state):
        if isinstance(self.serial, int) and 0 <= self.serial < state.size:
            state.selected = self.serial


@register
@dataclass
class Step(Command):
    """Move the selection through the queue (arrow keys, Space)."""

    name: ClassVar[str] = "step"
    delta: Any = 1

    def validate(self, state):
        if isinstance(self.delta, bool) or self.delta not in (-1, 1):
            raise CommandError(f"a step through the queue must be -1 or 1, not {self.delta!r}.")
        if len(state.queue()) == 0:
            raise CommandError("the queue is empty: every image is labeled.")

    def apply(self, state):
        queue = [int(s) for s in state.queue()]
        if state.selected in queue:
            i = queue.index(state.selected) + self.delta
            i = max(0, min(i, len(queue) - 1))
        else:
            i = 0
        state.selected = queue[i]
        state.bump("selection")
        return Outcome()



@register
@dataclass
class SelectBatch(Command):
    """A box or lasso selection on the map, to be labeled in one go."""

    name: ClassVar[str] = "select_batch"
    serials: Any = field(default_factory=list)
    logged: ClassVar[bool] = False

    def validate(self, state):
        if not isinstance(self.serials, (list, tuple)):
            raise CommandError(f"a selection must be a list of Serials, not {type(self.serials).__name__}.")
        self.serials = tuple(sorted({check_serial(s, state) for s in self.serials}))

    def apply(self, state):
        state.batch = self.serials
        state.bump("batch")
        return Outcome(f"{plural(len(self.serials), 'image')} selected." if self.serials else "")


# -- labels ------------------------------------------------------------------------------
@register
@dataclass
class Label(Command):
    name: ClassVar[str] = "label"
    serial: Any = None
    label: Any = None

    def validate(self, state):
        self.serial = check_serial(self.serial, state)
        self.label = check_label(self.label, state)

    def apply(self, state):
        before = state.labels.status(self.serial)
        if before == self.label:
            return Outcome(f"Serial {self.serial} is already labeled {_name(state, before)}.")
        old_queue = [int(s) for s in state.queue()]
        applied = write_labels(state, [[self.serial, before, self.label]])
        if not applied:  # another writer set the same label a moment ago
            return Outcome(f"Serial {self.serial} is already labeled {_name(state, self.label)}.")
        before = applied[0][1]
        if state.auto_advance and state.selected == self.serial:
            _advance_after(state, self.serial, old_queue)
        what = f"Labeled Serial {self.serial} as {_name(state, self.label)}"
        if before is not None:
            what += f" (was {_name(state, before)})"
        return Outcome(what + ".", {"changes": applied})


@register
@dataclass
class RemoveLabel(Command):
    name: ClassVar[str] = "remove_label"
    serial: Any = None

    def validate(self, state):
        self.serial = check_serial(self.serial, state)
        if state.labels.status(self.serial) is None:
            raise CommandError(f"Serial {self.serial} has no label to remove.")

    def apply(self, state):
        applied = write_labels(state, [[self.serial, state.labels.status(self.serial), None]])
        if not applied:
            return Outcome(f"Serial {self.serial} has no label any more (removed elsewhere).")
        before = applied[0][1]
        what = (f"Serial {self.serial} is no longer set aside" if before == SKIP
                else f"Removed the label {_name(state, before)} of Serial {self.serial}")
        return Outcome(what + ".", {"changes": applied})


@register
@dataclass
class Skip(Command):
    """Set an image aside: not a class, out of the queue, undone like a label."""

    name: ClassVar[str] = "skip"
    serial: Any = None

    def validate(self, state):
        self.serial = check_serial(self.serial, state)

    def apply(self, state):
        before = state.labels.status(self.serial)
        if before == SKIP:
            return Outcome(f"Serial {self.serial} is already set aside.")
        old_queue = [int(s) for s in state.queue()]
        applied = write_labels(state, [[self.serial, before, SKIP]])
        if not applied:
            return Outcome(f"Serial {self.serial} is already set aside.")
        before = applied[0][1]
        if state.selected == self.serial:  # skipping means moving on, whatever auto-advance says
            _advance_after(state, self.serial, old_queue)
        what = f"Set Serial {self.serial} aside"
        if before is not None:
            what += f" (its label {_name(state, before)} is removed)"
        return Outcome(what + ": it leaves the queue; Ctrl+Z brings it back.",
                       {"changes": applied})


@register
@dataclass
class LabelBatch(Command):
    """Label every image of the current box/lasso selection with one class."""

    name: ClassVar[str] = "label_batch"
    label: Any = None
    serials: Any = None  # filled from the selection at validation, for the log

    def validate(self, state):
        self.label = check_label(self.label, state)
        if self.serials is None:
            self.serials = list(state.batch)
        if not isinstance(self.serials, (list, tuple)) or not self.serials:
            raise CommandError("nothing is selected on the map: draw a box or lasso first.")
        self.serials = sorted({check_serial(s, state) for s in self.serials})

    def apply(self, state):
        changes = [[s, state.labels.status(s), self.label] for s in self.serials
                   if state.labels.status(s) != self.label]
        state.batch = ()
        state.bump("batch")
        if changes:
            changes = write_labels(state, changes)
        if not changes:
            return Outcome(f"All {len(self.serials)} selected images are already labeled "
                           f"{_name(state, self.label)}.")
        return Outcome(f"Labeled {plural(len(changes), 'image')} as {_name(state, self.label)}.",
                       {"changes": changes})

    def to_json(self):
        return {"label": self.label, "serials": list(self.serials or [])}


@register
@dataclass
class ClearBatch(Command):
    name: ClassVar[str] = "clear_batch"
    logged: ClassVar[bool] = False

    def apply(self, state):
        state.batch = ()
        state.bump("batch")
        return Outcome()


def _replay(state: AppState, direction: str) -> Outcome:
    """Undo or redo the newest entry of this tab's stack, only where nobody changed it since.

    A Serial whose label is no longer what the step left (another tab, page or the CLI has
    changed it) is left as it is and named in one sentence; the rest is replayed.
    """
    src, dst = ((state.undo_stack, state.redo_stack) if direction == "undo"
                else (state.redo_stack, state.undo_stack))
    entry = src[-1]
    recorded = entry["effect"]["changes"]
    if direction == "undo":
        wanted = {s: before for s, before, _ in recorded}
        expect = {s: after for s, _, after in recorded}
    else:
        wanted = {s: after for s, _, after in recorded}
        expect = {s: before for s, before, _ in recorded}
    res = change_labels(state, wanted, expect)
    src.pop()
    what = entry.get("message") or entry["cmd"]
    verb = "Undid" if direction == "undo" else "Redid"
    log: dict = {}
    if res.conflicts:
        if not res.applied:
            log["dropped"] = True
        else:
            done = {s for s, _, _ in res.applied}
            # what the other direction will replay: only the changes made now
            kept = [c for c in recorded if c[0] in done]
            dst.append({**entry, "effect": {"changes": kept}})
            log["partial"] = kept
        if len(res.conflicts) == 1:
            s, now, _ = res.conflicts[0]
            note = (f"Serial {s} was changed elsewhere since (it is {_name(state, now)} now), so "
                    "it was left as it is")
        else:
            note = (f"{plural(len(res.conflicts), 'image')} changed elsewhere since were left as "
                    "they are")
        what = _lower(what).rstrip(".")
        text = (f"Could not {direction} '{what}': {note}." if not res.applied
                else f"{verb} '{what}' in part: {note}.")
    else:
        dst.append(entry)
        text = f"{verb}: {what}"
    changed = res.applied or [[s, None, None] for s, _, _ in res.conflicts]
    if len(changed) == 1:
        state.selected = changed[0][0]
        state.bump("selection")
    return Outcome(text, log=log or None, warning=bool(res.conflicts))


def _lower(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


@register
@dataclass
class Undo(Command):
    name: ClassVar[str] = "undo"

    def validate(self, state):
        if not state.undo_stack:
            raise CommandError("there is nothing to undo.")

    def apply(self, state):
        return _replay(state, "undo")


@register
@dataclass
class Redo(Command):
    name: ClassVar[str] = "redo"

    def validate(self, state):
        if not state.redo_stack:
            raise CommandError("there is nothing to redo.")

    def apply(self, state):
        return _replay(state, "redo")


@register
@dataclass
class ImportLabels(Command):
    """Merge another labels.csv (its text) into the labels; conflicts keep ours or take theirs."""

    name: ClassVar[str] = "import_labels"
    text: Any = None
    filename: Any = "labels.csv"
    prefer: Any = "ours"

    def validate(self, state):
        check_choice(self.prefer, ("ours", "theirs"), "conflict policy")
        if not isinstance(self.text, str):
            raise CommandError("the uploaded file is not text; upload a labels.csv with columns Serial,label.")
        if not isinstance(self.filename, str):
            self.filename = "labels.csv"
        self._merged, self.report = plan_import(state, self.text, self.filename, self.prefer)

    def apply(self, state):
        changes = [[s, state.labels.status(s), l] for s, l in sorted(self._merged.items())
                   if state.labels.status(s) != l]
        msg = f"Imported {self.filename}: {self.report.summary()}."
        if changes:
            changes = write_labels(state, changes)
        return Outcome(msg, {"changes": changes} if changes else None)

    def to_json(self):  # the text itself can be large; the effect in the log holds the changes
        return {"filename": self.filename, "prefer": self.prefer}


def plan_import(state: AppState, text: str, filename: str, prefer: str):
    """What importing ``text`` would do, using the label store's own merge (nothing is written)."""
    where = filename if isinstance(filename, str) else "uploaded file"
    try:
        parse_labels(text, state.size, state.class_names, where=where)  # message names the upload
        with tempfile.TemporaryDirectory(dir=state.workspace.root) as tmp:
            path = Path(tmp) / "import.csv"
            path.write_text(text, encoding="utf-8")
            return state.labels.plan_merge(path, prefer)
    except CommandError:
        raise
    except SSVAEError as exc:
        raise CommandError(str(exc)) from None


@register
@dataclass
class ExportLabels(Command):
    """Recorded so the log shows when labels left the app; the file on disk is always current."""

    name: ClassVar[str] = "export_labels"

    def apply(self, state):
        return Outcome(f"Downloaded labels.csv with {plural(len(state.labels), 'label')}.")


# -- view settings -----------------------------------------------------------------------
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

    def apply(self, state):
        if state.color_by != self.mode:
            state.color_by = self.mode
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

    def apply(self, state):
        if (state.strategy, state.diverse) != (self.strategy, self.diverse):
            state.strategy, state.diverse = self.strategy, self.diverse
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
        check_flag(self.on, "auto-advance")

    def apply(self, state):
        state.auto_advance = self.on
        return Outcome()

    def restore(self, state):
        if isinstance(self.on, bool):
            state.auto_advance = self.on


# -- predictions ---------------------------------------------------------------------------
@register
@dataclass
class LoadPredictions(Command):
    """Swap in a new predictions snapshot (the worker writes it; the page refreshes)."""

    name: ClassVar[str] = "load_predictions"
    logged: ClassVar[bool] = False
    path: Any = None

    def validate(self, state):
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
        self._preds, self._path = preds, path

    def apply(self, state):
        first = not state.has_model
        state.predictions = self._preds
        try:
            state.predictions_mtime = self._path.stat().st_mtime
        except OSError:
            state.predictions_mtime = None
        state.bump("predictions", "queue", "color")
        if not self._preds.has_model:
            return Outcome("The map of the images is ready: lasso a cluster and label it.")
        return Outcome("The map and the queue now show the first trained model." if first
                       else "Predictions refreshed from the latest training run.")


# -- training (the worker is a TrainingService on state.worker; no JAX in this process) ------
#: the settings the training panel offers: key of the config's train section, label, kind
TRAIN_SETTINGS: tuple[tuple[str, str, type], ...] = (
    ("learning_rate", "Learning rate", float),
    ("batch_size", "Batch size", int),
    ("classification_weight", "Classification weight", float),
    ("kl_weight", "KL weight", float),
    ("unlabeled_weight", "Unlabeled weight", float),
)
MAX_EPOCHS = 10_000


def check_number(value: Any, what: str, kind: type) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        shown = "empty" if value is None else repr(value)
        raise CommandError(f"{what} must be a number, not {shown}.")
    if kind is int:
        if isinstance(value, float) and not value.is_integer():
            raise CommandError(f"{what} must be a whole number, not {value!r}.")
        return int(value)
    return float(value)


def check_train_settings(state: AppState, epochs: Any, settings: Any) -> tuple[int, dict]:
    """Epochs and settings from the browser, checked like the config file (one sentence)."""
    epochs = check_number(epochs, "Epochs", int)
    if not 1 <= epochs <= MAX_EPOCHS:
        raise CommandError(f"Epochs must be between 1 and {MAX_EPOCHS}, not {epochs}.")
    if not isinstance(settings, dict):
        raise CommandError(f"training settings must be a mapping of names to numbers, not {settings!r}.")
    known = {key: (label, kind) for key, label, kind in TRAIN_SETTINGS}
    unknown = sorted(set(settings) - set(known))
    if unknown:
        raise CommandError(f"training setting '{unknown[0]}' is not one of: {', '.join(known)}.")
    clean = {k: check_number(v, known[k][0], known[k][1]) for k, v in settings.items()}
    state.worker.config.with_overrides({f"train.{k}": v for k, v in clean.items()},
                                       "training settings")  # raises ConfigError with the reason
    return epochs, clean


def _require_worker(state: AppState):
    if state.worker is None:
        raise CommandError("training is not connected in this app (started without a worker).")
    return state.worker


@register
@dataclass
class StartTraining(Command):
    """Train the warm model for ``epochs`` more epochs on a snapshot of the current labels."""

    name: ClassVar[str] = "start_training"
    epochs: Any = 10
    settings: Any = field(default_factory=dict)
    auto: Any = False  # started by the retrain-as-you-label option, not the Train button

    def validate(self, state):
        _require_worker(state)
        check_flag(self.auto, "auto")
        self._epochs, self._settings = check_train_settings(state, self.epochs, self.settings)

    def apply(self, state):
        labels = state.labels.as_dict()
        run_id = state.worker.start_run(labels, self._epochs, self._settings)  # may refuse
        self.restore(state)
        state.training["run_id"] = run_id
        state.bump("training")
        return Outcome(f"Training started: {plural(self._epochs, 'epoch')} on {plural(len(labels), 'label')}; "
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

    def validate(self, state):
        _require_worker(state)
        self._clean = self.checked()

    def apply(self, state):
        state.training["auto"] = self._clean
        state.bump("training")
        if not self.on:
            return Outcome("Retraining as you label is off.")
        return Outcome(f"Retraining as you label: a short run after every {plural(self._clean['every'], 'new label')}"
                       + (f" or a {self._clean['pause_s']:g} s pause." if self._clean["pause_s"] else "."))

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
        _require_worker(state)

    def apply(self, state):
        state.worker.stop_run()  # refuses when nothing runs
        state.bump("training")
        return Outcome("Stopping: the epochs done are kept, and the map refreshes in a moment.")


# -- several models per data set (ssvae.models_registry; the labels are shared) -------------
#: the configs a model can be created from in the page: shipped ones, or the selected model's
#: config with the training panel's settings ("current")
MODEL_CONFIGS = ("default", "mixture", "current")


def check_model_name(value: Any, what: str = "Model name") -> str:
    from ssvae.models_registry import NAME_RE

    if not isinstance(value, str) or not NAME_RE.fullmatch(value.strip()):
        shown = "empty" if not value else repr(value)[:60]
        raise CommandError(f"{what} must be 1 to 40 letters, digits, '.', '_' or '-', starting "
                           f"with a letter or digit, not {shown}.")
    return value.strip()


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

    def validate(self, state):
        self._name = _known_model(state, self.model)
        if self._name != state.workspace.model:
            _refuse_while_training(state, "switch models")

    def apply(self, state):
        if state.worker is not None:
            state.worker.load_model(self._name)  # refuses while a run is queued or training
        state.workspace.models.select(self._name)
        note = show_selected_model(state)
        return Outcome(f"Model '{self._name}' selected: {note}.")


@register
@dataclass
class CreateModel(Command):
    """A new, untrained model from a shipped config (default, mixture) or from the selected
    model's config with the training panel's settings (current). Not selected by itself."""

    name: ClassVar[str] = "create_model"
    logged: ClassVar[bool] = False  # the model's folder is the record
    model: Any = None
    config: Any = "default"

    def validate(self, state):
        self._name = check_model_name(self.model)
        if state.workspace.models.exists(self._name):
            raise CommandError(f"a model named '{self._name}' already exists; choose another name.")
        self._config = check_choice(self.config, MODEL_CONFIGS, "Config")

    def apply(self, state):
        from ssvae.config import load_config

        reg = state.workspace.models
        base = (getattr(state.worker, "base_config", None) or state.worker.config
                if state.worker is not None else load_config(None))
        if self._config == "current":
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
            cfg = load_config(self._config)
            source = f"the shipped {self._config} config"
        reg.create(self._name, cfg, source=source)
        state.bump("models")
        return Outcome(f"Model '{self._name}' created from {source} ({cfg.model.prior} prior); "
                       "select it in the list to label and train with it.")


@register
@dataclass
class RenameModel(Command):
    name: ClassVar[str] = "rename_model"
    logged: ClassVar[bool] = False
    model: Any = None
    new_name: Any = None

    def validate(self, state):
        self._old = _known_model(state, self.model)
        self._new = check_model_name(self.new_name, "New name")
        if state.workspace.models.exists(self._new):
            raise CommandError(f"a model named '{self._new}' already exists; choose another name.")
        if self._old == state.workspace.model:
            _refuse_while_training(state, "rename the model it trains")

    def apply(self, state):
        state.workspace.models.rename(self._old, self._new)  # refuses while it trains
        state.bump("models", "training")
        return Outcome(f"Model '{self._old}' renamed to '{self._new}'.")


@register
@dataclass
class DeleteModel(Command):
    """Delete a model's folder (checkpoint, predictions, runs); never the labels. Deleting the
    selected model switches to ``default`` (or the first model left)."""

    name: ClassVar[str] = "delete_model"
    logged: ClassVar[bool] = False
    model: Any = None

    def validate(self, state):
        self._name = _known_model(state, self.model)
        names = state.workspace.models.names()
        if len(names) == 1:
            raise CommandError(f"'{self._name}' is the only model; create another before deleting it.")
        if self._name == state.workspace.model:
            _refuse_while_training(state, "delete the model it trains")

    def apply(self, state):
        was_selected = self._name == state.workspace.model
        if was_selected and state.worker is not None:
            rest = [n for n in state.workspace.models.names() if n != self._name]
            state.worker.load_model("default" if "default" in rest else rest[0])
        selected = state.workspace.models.delete(self._name)  # refuses while it trains
        if not was_selected:
            state.bump("models")
            return Outcome(f"Model '{self._name}' deleted; the labels are untouched.")
        note = show_selected_model(state)
        return Outcome(f"Model '{self._name}' deleted; the labels are untouched. Now on model "
                       f"'{selected}': {note}.")
