"""Undo and redo: one :class:`UndoHistory` per browser tab, one implementation for both.

The dispatcher records every logged label change with :meth:`UndoHistory.record`; ``Undo``
and ``Redo`` replay the newest step and move it with :meth:`UndoHistory.move`; on start-up the
dispatcher rebuilds each tab's history from the command log through the same two methods
(:meth:`~dashboard.commands.base.Command.replay`), so a restart comes back to what the tab had.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from dashboard.commands.base import Command, CommandError, Outcome, register
from dashboard.commands.labels import LabelWriter, label_name
from dashboard.state import AppState, Session
from dashboard.text import plural


class UndoHistory:
    """The undo and redo stacks of one tab (:class:`~dashboard.state.Session`); each step is
    a command-log entry whose ``effect`` holds the ``[serial, before, after]`` changes."""

    def __init__(self, session: Session):
        self.session = session

    def _stacks(self, direction: str) -> tuple[list[dict], list[dict]]:
        s = self.session
        return (s.undo_stack, s.redo_stack) if direction == "undo" else (s.redo_stack, s.undo_stack)

    def can(self, direction: str) -> bool:
        return bool(self._stacks(direction)[0])

    def newest(self, direction: str) -> dict:
        """The step an undo (or redo) replays next."""
        return self._stacks(direction)[0][-1]

    def record(self, entry: dict | None) -> None:
        """A new label change: it becomes the newest undo step (None: a change the log could
        not keep, which cannot be undone), and the redo steps are dropped."""
        if entry is not None:
            self.session.undo_stack.append(entry)
        self.session.redo_stack.clear()

    def move(self, direction: str, partial: list | None = None, dropped: bool = False) -> None:
        """The newest step was undone (redone): it moves to the other stack, holding only the
        ``partial`` changes where only some were made, or leaves the history if ``dropped``
        (none could be made)."""
        src, dst = self._stacks(direction)
        entry = src.pop()
        if dropped:
            return
        if partial is not None:
            entry = {**entry, "effect": {"changes": partial}}
        dst.append(entry)


def _lower(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


@dataclass
class Replay(Command):
    """Undo or redo the newest step of this tab, only where nobody changed it since.

    A Serial whose label is no longer what the step left (another tab, page or the CLI has
    changed it) is left as it is and named in one sentence; the rest is replayed.
    """

    direction: ClassVar[str] = "undo"

    def validate(self, state: AppState) -> dict:
        history = UndoHistory(state.current)
        if not history.can(self.direction):
            raise CommandError(f"there is nothing to {self.direction}.")
        return history.newest(self.direction)

    def apply(self, state: AppState, change: dict) -> Outcome:
        entry, undo = change, self.direction == "undo"
        recorded = entry["effect"]["changes"]
        wanted = {s: (before if undo else after) for s, before, after in recorded}
        expect = {s: (after if undo else before) for s, before, after in recorded}
        res = LabelWriter(state).change(wanted, expect)
        what = entry.get("message") or entry["cmd"]
        verb = "Undid" if undo else "Redid"
        log: dict = {}
        if res.conflicts:
            if not res.applied:
                log["dropped"] = True
            else:
                done = {s for s, _, _ in res.applied}
                # what the other direction will replay: only the changes made now
                log["partial"] = [c for c in recorded if c[0] in done]
            if len(res.conflicts) == 1:
                s, now, _ = res.conflicts[0]
                note = (f"Serial {s} was changed elsewhere since (it is {label_name(state, now)} "
                        "now), so it was left as it is")
            else:
                note = (f"{plural(len(res.conflicts), 'image')} changed elsewhere since were left "
                        "as they are")
            what = _lower(what).rstrip(".")
            text = (f"Could not {self.direction} '{what}': {note}." if not res.applied
                    else f"{verb} '{what}' in part: {note}.")
        else:
            text = f"{verb}: {what}"
        UndoHistory(state.current).move(self.direction, log.get("partial"), bool(log.get("dropped")))
        changed = res.applied or [[s, None, None] for s, _, _ in res.conflicts]
        if len(changed) == 1:
            state.selected = changed[0][0]
            state.bump("selection")
        return Outcome(text, log=log or None, warning=bool(res.conflicts), touched_labels=True)

    def replay(self, state: AppState, entry: dict, history: UndoHistory) -> None:
        if history.can(self.direction):
            history.move(self.direction, entry.get("partial"), bool(entry.get("dropped")))


@register
@dataclass
class Undo(Replay):
    name: ClassVar[str] = "undo"
    direction: ClassVar[str] = "undo"


@register
@dataclass
class Redo(Replay):
    name: ClassVar[str] = "redo"
    direction: ClassVar[str] = "redo"
