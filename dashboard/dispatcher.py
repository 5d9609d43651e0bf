"""The one dispatcher: applies commands one at a time and keeps the command log.

``dispatch`` validates a command, applies it, appends it to ``commands.jsonl`` and returns a
:class:`Result` with the message and the new version counters. A command that fails validation
or whose apply raises changes nothing. On start-up :meth:`Dispatcher.restore` replays the log
to rebuild the undo and redo stacks, the labels-over-time history and the view settings.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from filelock import FileLock, Timeout
from pydantic import BaseModel, ConfigDict, StrictFloat, StrictInt, StrictStr, ValidationError

from ssvae.errors import SSVAEError
from ssvae.labels import LOCK_TIMEOUT_S

from dashboard.commands import Command, CommandError, LabelWriter, UndoHistory
from dashboard.state import AppState

log = logging.getLogger(__name__)
#: a value in a logged change: a class index, a skip, or unlabeled
Value = StrictInt | Literal["skip"] | None


@dataclass
class Result:
    ok: bool
    message: str = ""
    versions: dict = field(default_factory=dict)
    command: str = ""
    #: done, but with something the user must know (shown as a warning that stays)
    warning: bool = False

    def to_json(self) -> dict:
        out = {"ok": self.ok, "message": self.message, "versions": self.versions,
               "command": self.command, "t": time.time()}
        if self.warning:
            out["warning"] = True
        return out


class _Effect(BaseModel):
    changes: list[tuple[StrictInt, Value, Value]]


class LogEntry(BaseModel):
    """One line of the command log, checked field by field when the log is read back."""

    model_config = ConfigDict(extra="allow")
    seq: StrictInt
    cmd: StrictStr
    t: StrictInt | StrictFloat = 0.0
    args: dict | None = None
    sel: StrictInt | None = None
    session: StrictStr | None = None
    effect: _Effect | None = None
    message: StrictStr | None = None
    n: StrictInt | None = None
    fp: StrictStr | None = None
    #: on an undo/redo: the changes it actually made when other writers had changed some
    partial: list[tuple[StrictInt, Value, Value]] | None = None


class CommandLog:
    """Append-only JSON lines; each line is flushed and fsync'ed before dispatch returns.

    Several processes may append to one log (two pages on one workspace): each append holds
    the lock file ``.commands.jsonl.lock`` and first reads what the others appended, so
    ``seq`` stays unique and increasing. Reading back skips every line that is not a whole,
    well-formed entry (a line torn by a crash, or anything else) and counts them in
    :attr:`skipped_lines`.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(self.path.with_name(f".{self.path.name}.lock"), timeout=LOCK_TIMEOUT_S)
        self._seq = 0
        self._offset = 0  # bytes of the file this log has taken in
        self._ends_line = True
        #: lines of the file that could not be read back (torn or malformed)
        self.skipped_lines = 0

    def _parse(self, data: bytes, first_line: int = 1) -> tuple[list[dict], int]:
        entries, bad = [], 0
        for n, raw in enumerate(data.split(b"\n"), first_line):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
                LogEntry.model_validate(obj)
            except (ValueError, ValidationError):  # JSONDecodeError and UnicodeDecodeError too
                bad += 1
                log.debug("%s: line %d is not a command-log entry and is skipped", self.path, n)
                continue
            entries.append(obj)
            self._seq = max(self._seq, obj["seq"])
        return entries, bad

    def read(self) -> list[dict]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            data = b""
        entries, self.skipped_lines = self._parse(data)
        self._offset, self._ends_line = len(data), (not data or data.endswith(b"\n"))
        if self.skipped_lines:
            log.warning("%s: %d line%s could not be read and %s skipped (a crash mid-write or an "
                        "edit); the rest of the history stands", self.path, self.skipped_lines,
                        "" if self.skipped_lines == 1 else "s",
                        "was" if self.skipped_lines == 1 else "were")
        return entries

    def _catch_up(self) -> None:
        """Take in what other writers appended since this log last looked (for ``seq``)."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            self._offset, self._ends_line = 0, True
            return
        if size < self._offset:  # replaced or truncated: read it again from the start
            self._offset = 0
        if size == self._offset:
            return
        with open(self.path, "rb") as fh:
            fh.seek(self._offset)
            data = fh.read()
        self._parse(data)
        self._offset += len(data)
        self._ends_line = data.endswith(b"\n")

    def append(self, entry: dict) -> dict:
        """Append one entry with the next ``seq``; raises OSError (or a lock timeout as
        OSError) when the log cannot be written."""
        try:
            with self._lock:
                self._catch_up()
                seq = self._seq + 1
                entry = {"seq": seq, "t": round(time.time(), 3), **entry}
                data = (json.dumps(entry, separators=(",", ":")) + "\n").encode("utf-8")
                if not self._ends_line:  # a line torn by a crash: never glue onto it
                    data = b"\n" + data
                with open(self.path, "ab") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                self._seq = seq
                self._offset += len(data)
                self._ends_line = True
        except Timeout:
            raise OSError(f"another program has held its lock for more than "
                          f"{LOCK_TIMEOUT_S:.0f} s") from None
        return entry


class Dispatcher:
    def __init__(self, state: AppState, command_log: CommandLog):
        self.state = state
        self.log = command_log
        self.lock = threading.RLock()
        #: called with (command, result) after every applied command (hooks for plug-ins)
        self.listeners: list = []

    def versions(self, session: str | None = None) -> dict:
        with self.lock, self.state.session(session):
            return dict(self.state.versions)

    def sync(self) -> bool:
        """Take in a change another writer made to labels.csv (the CLI, a second page).

        Returns True when there was one; the labels, their digest and the statistics follow it
        and every tab redraws. Undo stays: an undo only reverts what is still as it left it.
        """
        with self.lock:
            try:
                return LabelWriter(self.state).take_in()
            except SSVAEError as exc:  # e.g. a malformed file: keep what the page has
                log.warning("%s", exc)
                return False

    def dispatch(self, cmd: Command, session: str | None = None) -> Result:
        """Apply ``cmd`` for browser tab ``session`` (None: the app itself)."""
        with self.lock, self.state.session(session):
            try:
                self.sync()
                change = cmd.validate(self.state)
                outcome = cmd.apply(self.state, change)
            except (CommandError, SSVAEError) as exc:
                return Result(False, _sentence(str(exc)), dict(self.state.versions), cmd.name)
            except OSError as exc:  # e.g. the disk is full: labels.csv kept its old content
                return Result(False, f"could not write {getattr(exc, 'filename', None) or 'a file'}: "
                                     f"{exc.strerror or exc}.", dict(self.state.versions), cmd.name)
            message, warning = outcome.message, outcome.warning
            if cmd.logged:
                # "sel": the selection after the command, so a restart comes back to the same image
                entry = {"cmd": cmd.name, "args": cmd.log_args(change), "sel": self.state.selected}
                if self.state.session_id is not None:
                    entry["session"] = self.state.session_id
                if outcome.effect is not None:
                    entry["effect"] = outcome.effect
                    entry["message"] = outcome.message
                if outcome.log:
                    entry.update(outcome.log)
                if outcome.labels_entry:
                    entry["n"] = len(self.state.labels)
                    entry["fp"] = self.state.digest.hex()
                try:
                    entry = self.log.append(entry)
                    logged = True
                except OSError as exc:
                    log.error("command log %s: %s", self.log.path, exc)
                    logged = False
                    if outcome.labels_entry:
                        reason = getattr(exc, "strerror", None) or str(exc)
                        message = (_sentence(message) + " " if message else "") + (
                            f"Undo is not available for this change: the command log "
                            f"{self.log.path} could not be written ({reason}); the labels are saved.")
                        warning = True
                if outcome.effect is not None:  # a change that could not be logged cannot be undone
                    UndoHistory(self.state.current).record(entry if logged else None)
            result = Result(True, message, dict(self.state.versions), cmd.name, warning)
            for listener in self.listeners:
                listener(cmd, result)
            return result

    def notices(self, session: str | None = None) -> str:
        """The app's notices, once per tab (e.g. how many command-log lines were skipped)."""
        with self.lock, self.state.session(session):
            sess = self.state.current
            if sess.told or not self.state.notices:
                return ""
            sess.told = True
            return " ".join(self.state.notices)

    def restore(self) -> None:
        """Rebuild each tab's undo/redo and selection, the history and the view settings from
        the command log. Lines that cannot be read are skipped and counted in a notice."""
        with self.lock:
            state = self.state
            last_fp = None
            for entry in self.log.read():
                name = entry.get("cmd")
                sid = entry.get("session")
                with state.session(sid):
                    sess = state.current
                    try:
                        cmd = Command.from_json(name, entry.get("args") or {})
                    except CommandError:  # no longer known: its label change still counts for undo
                        cmd = Command()
                    try:  # the same undo history the dispatcher records into
                        cmd.replay(state, entry, UndoHistory(sess))
                    except (CommandError, SSVAEError, ValueError, TypeError):
                        pass
                    sel = entry.get("sel")
                    if isinstance(sel, int) and not isinstance(sel, bool) and 0 <= sel < state.size:
                        sess.selected = sel
                if "n" in entry:
                    state.history.append((float(entry.get("t", 0)), int(entry["n"])))
                if "fp" in entry:
                    last_fp = entry["fp"]
            if last_fp is not None and last_fp != state.digest.hex():
                # labels.csv changed since the last logged change (the CLI, an editor, a kill
                # between writing labels.csv and the log): the undo steps stay, as every undo
                # reverts only what is still as it left it.
                log.info("%s changed since the command log's last entry", state.labels.path)
                state.history.append((time.time(), len(state.labels)))
            if self.log.skipped_lines:
                n = self.log.skipped_lines
                state.notices.append(
                    f"{n} line{'' if n == 1 else 's'} of the command log {self.log.path} could not "
                    f"be read and {'was' if n == 1 else 'were'} skipped; the rest of the undo "
                    "history stands.")
            if not state.history or state.history[-1][1] != len(state.labels):
                state.history.append((time.time(), len(state.labels)))


def _sentence(text: str) -> str:
    text = text.strip()
    if text and text[0].islower():
        text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
