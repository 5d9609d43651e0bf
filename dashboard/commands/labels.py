"""The label commands, and :class:`LabelWriter`, the one place that changes the page's labels.

Commands that change labels return an *effect* — the before/after label of every Serial they
touched — which is what undo and redo (:mod:`dashboard.commands.history`) replay.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, NamedTuple

from ssvae.errors import SSVAEError
from ssvae.labels import SKIP, MergeReport, Update, parse_labels

from dashboard.commands.base import Command, CommandError, Outcome, register
from dashboard.commands.checks import check_choice, check_label, check_serial, check_serials
from dashboard.state import AppState
from dashboard.text import plural


class LabelWriter:
    """Writes the labels of ``state`` and keeps what follows them in step: the label digest,
    the labels-over-time history and the ``labels`` version counter. Every label change of
    the page (commands, undo, redo, another writer's change taken in) goes through here."""

    def __init__(self, state: AppState):
        self.state = state

    def change(self, changes: dict, expect: dict | None = None) -> Update:
        """Set each Serial of ``changes`` to a class index, :data:`SKIP` or None in one locked
        write of labels.csv (and labels.skipped.csv) that first merges other writers' changes.

        With ``expect`` a Serial that no longer holds the expected value is left alone (undo).
        Returns the store's :class:`~ssvae.labels.Update`; the digest, history and version
        counters follow what was actually written.
        """
        state = self.state
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
            self._changed()
        return res

    def write(self, changes: list[list]) -> list[list]:
        """Make the labels hold ``after`` for every [serial, before, after]; returns the
        changes actually made (with the ``before`` found on disk)."""
        return self.change({s: after for s, _, after in changes}).applied

    def take_in(self) -> bool:
        """Take in a change another writer made to labels.csv (the CLI, a second page);
        True when there was one. Raises :class:`~ssvae.errors.SSVAEError` for a bad file."""
        changed = self.state.labels.refresh()
        if changed:
            self.state.reset_digest()
            self._changed()
        return changed

    def _changed(self) -> None:
        self.state.record_history()
        self.state.bump("labels")


def label_name(state: AppState, label: int | str | None) -> str:
    if label == SKIP:
        return "skipped"
    return "unlabeled" if label is None else state.class_names[label]


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
        return replace(self, serial=check_serial(self.serial, state))

    def apply(self, state, change):
        if state.selected != change.serial:
            state.selected = change.serial
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
        return replace(self, delta=int(self.delta))

    def apply(self, state, change):
        queue = [int(s) for s in state.queue()]
        if state.selected in queue:
            i = queue.index(state.selected) + change.delta
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
        return replace(self, serials=check_serials(self.serials, state))

    def apply(self, state, change):
        state.batch = change.serials
        state.bump("batch")
        return Outcome(f"{plural(len(change.serials), 'image')} selected." if change.serials else "")


@register
@dataclass
class ClearBatch(Command):
    name: ClassVar[str] = "clear_batch"
    logged: ClassVar[bool] = False

    def apply(self, state, change):
        state.batch = ()
        state.bump("batch")
        return Outcome()


# -- labels ------------------------------------------------------------------------------
@register
@dataclass
class Label(Command):
    name: ClassVar[str] = "label"
    serial: Any = None
    label: Any = None

    def validate(self, state):
        return replace(self, serial=check_serial(self.serial, state),
                       label=check_label(self.label, state))

    def apply(self, state, change):
        serial, label = change.serial, change.label
        before = state.labels.status(serial)
        if before == label:
            return Outcome(f"Serial {serial} is already labeled {label_name(state, before)}.")
        old_queue = [int(s) for s in state.queue()]
        applied = LabelWriter(state).write([[serial, before, label]])
        if not applied:  # another writer set the same label a moment ago
            return Outcome(f"Serial {serial} is already labeled {label_name(state, label)}.")
        before = applied[0][1]
        if state.auto_advance and state.selected == serial:
            _advance_after(state, serial, old_queue)
        what = f"Labeled Serial {serial} as {label_name(state, label)}"
        if before is not None:
            what += f" (was {label_name(state, before)})"
        return Outcome(what + ".", {"changes": applied})


@register
@dataclass
class RemoveLabel(Command):
    name: ClassVar[str] = "remove_label"
    serial: Any = None

    def validate(self, state):
        serial = check_serial(self.serial, state)
        if state.labels.status(serial) is None:
            raise CommandError(f"Serial {serial} has no label to remove.")
        return replace(self, serial=serial)

    def apply(self, state, change):
        serial = change.serial
        applied = LabelWriter(state).write([[serial, state.labels.status(serial), None]])
        if not applied:
            return Outcome(f"Serial {serial} has no label any more (removed elsewhere).")
        before = applied[0][1]
        what = (f"Serial {serial} is no longer set aside" if before == SKIP
                else f"Removed the label {label_name(state, before)} of Serial {serial}")
        return Outcome(what + ".", {"changes": applied})


@register
@dataclass
class Skip(Command):
    """Set an image aside: not a class, out of the queue, undone like a label."""

    name: ClassVar[str] = "skip"
    serial: Any = None

    def validate(self, state):
        return replace(self, serial=check_serial(self.serial, state))

    def apply(self, state, change):
        serial = change.serial
        before = state.labels.status(serial)
        if before == SKIP:
            return Outcome(f"Serial {serial} is already set aside.")
        old_queue = [int(s) for s in state.queue()]
        applied = LabelWriter(state).write([[serial, before, SKIP]])
        if not applied:
            return Outcome(f"Serial {serial} is already set aside.")
        before = applied[0][1]
        if state.selected == serial:  # skipping means moving on, whatever auto-advance says
            _advance_after(state, serial, old_queue)
        what = f"Set Serial {serial} aside"
        if before is not None:
            what += f" (its label {label_name(state, before)} is removed)"
        return Outcome(what + ": it leaves the queue; Ctrl+Z brings it back.",
                       {"changes": applied})


@register
@dataclass
class LabelBatch(Command):
    """Label every image of the current box/lasso selection with one class."""

    name: ClassVar[str] = "label_batch"
    label: Any = None
    serials: Any = None  # None: the tab's map selection, filled in by validation for the log

    def validate(self, state):
        label = check_label(self.label, state)
        serials = list(state.batch) if self.serials is None else self.serials
        if not isinstance(serials, (list, tuple)) or not serials:
            raise CommandError("nothing is selected on the map: draw a box or lasso first.")
        return replace(self, label=label, serials=list(check_serials(serials, state)))

    def apply(self, state, change):
        label, serials = change.label, change.serials
        changes = [[s, state.labels.status(s), label] for s in serials
                   if state.labels.status(s) != label]
        state.batch = ()
        state.bump("batch")
        if changes:
            changes = LabelWriter(state).write(changes)
        if not changes:
            return Outcome(f"All {len(serials)} selected images are already labeled "
                           f"{label_name(state, label)}.")
        return Outcome(f"Labeled {plural(len(changes), 'image')} as {label_name(state, label)}.",
                       {"changes": changes})

    def to_json(self):
        return {"label": self.label, "serials": list(self.serials or [])}


# -- import and export -------------------------------------------------------------------
class ImportPlan(NamedTuple):
    """What importing an upload will do: the labels after the merge, and the report."""

    filename: str
    prefer: str
    merged: dict[int, int]
    report: MergeReport


def plan_import(state: AppState, text: str, filename: str, prefer: str) -> tuple[dict[int, int], MergeReport]:
    """What importing ``text`` would do, using the label store's own merge (nothing is written)."""
    where = filename if isinstance(filename, str) else "uploaded file"
    try:
        theirs = parse_labels(text, state.size, state.class_names, where=where)  # names the upload
        return state.labels.plan_merge_labels(theirs, prefer)
    except SSVAEError as exc:
        raise CommandError(str(exc)) from None


@register
@dataclass
class ImportLabels(Command):
    """Merge another labels.csv (its text) into the labels; conflicts keep ours or take theirs."""

    name: ClassVar[str] = "import_labels"
    text: Any = None
    filename: Any = "labels.csv"
    prefer: Any = "ours"

    def validate(self, state) -> ImportPlan:
        prefer = check_choice(self.prefer, ("ours", "theirs"), "conflict policy")
        if not isinstance(self.text, str):
            raise CommandError("the uploaded file is not text; upload a labels.csv with columns Serial,label.")
        filename = self.filename if isinstance(self.filename, str) else "labels.csv"
        merged, report = plan_import(state, self.text, filename, prefer)
        return ImportPlan(filename, prefer, merged, report)

    def apply(self, state, change: ImportPlan):
        changes = [[s, state.labels.status(s), l] for s, l in sorted(change.merged.items())
                   if state.labels.status(s) != l]
        msg = f"Imported {change.filename}: {change.report.summary()}."
        if changes:
            changes = LabelWriter(state).write(changes)
        return Outcome(msg, {"changes": changes} if changes else None)

    def log_args(self, change: ImportPlan):
        # the text itself can be large; the effect in the log holds the changes
        return {"filename": change.filename, "prefer": change.prefer}

    def to_json(self):
        return {"filename": self.filename, "prefer": self.prefer}


@register
@dataclass
class ExportLabels(Command):
    """Recorded so the log shows when labels left the app; the file on disk is always current."""

    name: ClassVar[str] = "export_labels"

    def apply(self, state, change):
        return Outcome(f"Downloaded labels.csv with {plural(len(state.labels), 'label')}.")
