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

from ssvae.errors import SSVAEError

from dashboard.commands import Command, CommandError, Redo, Undo
from dashboard.state import AppState

log = logging.getLogger(__name__)


@dataclass
class Result:
    ok: bool
    message: str = ""
    versions: dict = field(default_factory=dict)
    command: str = ""

    def to_json(self) -> dict:
        return {"ok": self.ok, "message": self.message, "versions": self.versions,
                "command": self.command, "t": time.time()}


class CommandLog:
    """Append-only JSON lines; each line is flushed and fsync'ed before dispatch returns."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._seq = 0

    def read(self) -> list[dict]:
        entries = []
        try:
            with open(self.path, encoding="utf-8") as fh:
                for n, line in enumerate(fh, 1):
                    line = line.strip()
                    if not line:
                        continue
                    try:
                        entries.append(json.loads(line))
                    except json.JSONDecodeError:
                        # a line cut short by a crash mid-append: everything before it stands
                        log.warning("%s: line %d is not JSON and is skipped", self.path, n)
        except FileNotFoundError:
            pass
        if entries:
            self._seq = max(int(e.get("seq", 0)) for e in entries)
        return entries

    def append(self, entry: dict) -> dict:
        self._seq += 1
        entry = {"seq": self._seq, "t": round(time.time(), 3), **entry}
        data = (json.dumps(entry, separators=(",", ":")) + "\n").encode("utf-8")
        with open(self.path, "ab") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        return entry


class Dispatcher:
    def __init__(self, state: AppState, command_log: CommandLog):
        self.state = state
        self.log = command_log
        self.lock = threading.RLock()
        #: called with (command, result) after every applied command (hooks for plug-ins)
        self.listeners: list = []

    def versions(self) -> dict:
        with self.lock:
            return dict(self.state.versions)

    def dispatch(self, cmd: Command) -> Result:
        with self.lock:
            try:
                cmd.validate(self.state)
                outcome = cmd.apply(self.state)
            except (CommandError, SSVAEError) as exc:
                return Result(False, _sentence(str(exc)), dict(self.state.versions), cmd.name)
            except OSError as exc:  # e.g. the disk is full: labels.csv kept its old content
                return Result(False, f"could not write {getattr(exc, 'filename', None) or 'a file'}: "
                                     f"{exc.strerror or exc}.", dict(self.state.versions), cmd.name)
            if cmd.logged:
                # "sel": the selection after the command, so a restart comes back to the same image
                entry = {"cmd": cmd.name, "args": cmd.to_json(), "sel": self.state.selected}
                if outcome.effect is not None:
                    entry["effect"] = outcome.effect
                    entry["message"] = outcome.message
                if outcome.effect is not None or isinstance(cmd, (Undo, Redo)):
                    entry["n"] = len(self.state.labels)
                    entry["fp"] = self.state.digest.hex()
                try:
                    entry = self.log.append(entry)
                except OSError as exc:
                    log.error("command log %s: %s", self.log.path, exc)
                if outcome.effect is not None:
                    self.state.undo_stack.append(entry)
                    self.state.redo_stack.clear()
            result = Result(True, outcome.message, dict(self.state.versions), cmd.name)
            for listener in self.listeners:
                listener(cmd, result)
            return result

    def restore(self) -> None:
        """Rebuild undo/redo, history and view settings from the command log."""
        with self.lock:
            state = self.state
            last_fp = None
            for entry in self.log.read():
                name = entry.get("cmd")
                if name == "undo" and state.undo_stack:
                    state.redo_stack.append(state.undo_stack.pop())
                elif name == "redo" and state.redo_stack:
                    state.undo_stack.append(state.redo_stack.pop())
                elif name == "external_change":
                    state.undo_stack.clear()
                    state.redo_stack.clear()
                elif "effect" in entry:
                    state.undo_stack.append(entry)
                    state.redo_stack.clear()
                else:
                    try:
                        Command.from_json(name, entry.get("args") or {}).restore(state)
                    except CommandError:
                        pass
                sel = entry.get("sel")
                if isinstance(sel, int) and not isinstance(sel, bool) and 0 <= sel < state.size:
                    state.selected = sel
                if "n" in entry:
                    state.history.append((float(entry.get("t", 0)), int(entry["n"])))
                if "fp" in entry:
                    last_fp = entry["fp"]
            if last_fp is not None and last_fp != state.digest.hex():
                # labels.csv changed outside the page (CLI import, an editor, a crash between
                # writing labels.csv and the log): old undo steps no longer fit, so drop them.
                state.undo_stack.clear()
                state.redo_stack.clear()
                self.log.append({"cmd": "external_change", "n": len(state.labels),
                                 "fp": state.digest.hex()})
                state.history.append((time.time(), len(state.labels)))
            if not state.history or state.history[-1][1] != len(state.labels):
                state.history.append((time.time(), len(state.labels)))


def _sentence(text: str) -> str:
    text = text.strip()
    if text and text[0].islower():
        text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
