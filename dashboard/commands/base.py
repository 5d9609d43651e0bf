"""What every command is: a dataclass of plain JSON values with ``validate`` and ``apply``.

``validate(state)`` checks the command against the state, changes nothing, raises
:class:`CommandError` with one sentence, and returns the *prepared change*: what ``apply``
needs (checked values, a loaded file, a merge plan). ``apply(state, change)`` makes that change
and returns an :class:`Outcome`; it never reads results off ``self``, so it cannot run on an
unchecked command. A prepared change that is itself a command (a checked copy with clean
values) is what the command log records; otherwise the log records the command as given.
New commands (a plug-in's, for example) join with the :func:`register` decorator and go
through the same dispatcher.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from ssvae.errors import SSVAEError

from dashboard.state import AppState


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
    #: the command went through the labels (an undo or redo, whatever it changed): the log
    #: entry records the label count and digest, and a log that cannot be written is told
    touched_labels: bool = False

    @property
    def labels_entry(self) -> bool:
        """Whether the log entry is one of the labels' history (count, digest, undo)."""
        return self.effect is not None or self.touched_labels


COMMANDS: dict[str, type["Command"]] = {}


def register(cls):
    """Class decorator: make a command known by its ``name`` (for the log and for plug-ins)."""
    COMMANDS[cls.name] = cls
    return cls


class Command:
    name: ClassVar[str] = "command"
    #: written to the command log (and so replayed on start-up)
    logged: ClassVar[bool] = True

    def validate(self, state: AppState) -> Any:
        """Check the command; return the prepared change :meth:`apply` takes (default: the
        command itself, for commands with nothing to check)."""
        return self

    def apply(self, state: AppState, change: Any) -> Outcome:  # pragma: no cover
        raise NotImplementedError

    def log_args(self, change: Any) -> dict[str, Any]:
        """The ``args`` of the command log's entry: the checked copy where validation made
        one, else the command as given."""
        return (change if isinstance(change, Command) else self).to_json()

    def restore(self, state: AppState) -> None:
        """Re-apply a logged command's effect on view state when the server starts again.

        Label changes are not replayed (labels.csv is the truth); view commands (selection,
        colouring, strategy) override this to come back as they were left.
        """

    def replay(self, state: AppState, entry: dict, history) -> None:
        """Take in this command's log entry when the server starts again: a label change
        joins the tab's undo ``history`` (a :class:`~dashboard.commands.history.UndoHistory`),
        anything else restores its view state."""
        if "effect" in entry:
            history.record(entry)
        else:
            self.restore(state)

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
