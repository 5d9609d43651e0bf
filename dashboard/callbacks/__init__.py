"""Callbacks, one module per feature; each has ``register(app, ctx)``.

Action callbacks turn browser input into a command, hand it to the dispatcher and write the
:class:`~dashboard.dispatcher.Result` into the ``result`` store; a client-side function shows
its message and copies its version counters into ``versions``. The timers (the 2 s tick, the
training panel's poll) write what they have to say into ``update`` instead, and new counters
alone straight into ``versions``, so they never replace a command's result before it is
shown. Render callbacks listen to
``versions``, compare the server's counters with the ones they drew last (their ``seen-*``
store) and send only what changed.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

from dash import State
from dash.exceptions import PreventUpdate

from dashboard.commands import Command, LoadPredictions
from dashboard.dispatcher import Dispatcher, Result
from dashboard.images import ImageCache
from dashboard.state import AppState

#: the browser tab's session id (layout's "session-id" store): give it to every callback that
#: reads or changes what belongs to one tab (selection, map selection, undo and redo)
SESSION = State("session-id", "data")

FEATURES = ("sync", "map", "queue", "selected", "labeling", "stats", "io", "training", "mixture",
            "models")


@dataclass
class Context:
    state: AppState
    dispatcher: Dispatcher
    images: ImageCache
    recon: ImageCache | None = None
    extras: dict = field(default_factory=dict)

    @property
    def lock(self):
        return self.dispatcher.lock

    def run(self, cmd: Command, session: str | None = None) -> dict:
        """Dispatch ``cmd`` for browser tab ``session`` and return the result for the page."""
        return capped(self.dispatcher.dispatch(cmd, _sid(session)).to_json())

    def reject(self, message: str, command: str = "", session: str | None = None) -> dict:
        return capped(Result(False, message, self.dispatcher.versions(_sid(session)), command).to_json())

    @contextmanager
    def session(self, sid):
        """Hold the dispatcher's lock and read the state as browser tab ``sid`` sees it."""
        with self.lock, self.state.session(_sid(sid)):
            yield self.state

    def refresh_predictions(self) -> dict | None:
        """Load the worker's predictions snapshot if it changed on disk since the last load.

        Returns the command's result (JSON) or None when the file is missing or unchanged. A
        file that does not load (half-written, another data set's) is reported once and the
        page keeps the predictions it has.
        """
        path = self.state.workspace.predictions
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return None
        with self.lock:
            if mtime == self.state.predictions_mtime:
                return None
            res = self.dispatcher.dispatch(LoadPredictions(str(path)))
            if not res.ok:
                self.state.predictions_mtime = mtime
            return res.to_json()

    def recon_image(self, serial: int) -> str | None:
        p = self.state.predictions
        if p is None or not p.has_recon:
            return None
        if self.recon is None or self.extras.get("recon_of") is not p:
            self.recon = ImageCache(p.recon)
            self.extras["recon_of"] = p
        return self.recon(serial)


MAX_MESSAGE = 300  # characters of a message sent to the page


def capped(result: dict) -> dict:
    """A result whose message is at most :data:`MAX_MESSAGE` characters: a refusal that quotes
    what the browser sent (a 10 MB key, a forged Serial) never echoes it back whole."""
    message = result.get("message")
    if isinstance(message, str) and len(message) > MAX_MESSAGE:
        result["message"] = message[: MAX_MESSAGE - 1] + "…"
    return result


def _sid(value) -> str | None:
    """A session id from the browser: a short string, anything else is the app's own."""
    return value if isinstance(value, str) and 0 < len(value) <= 64 else None


def changed_parts(state: AppState, seen: dict | None, parts: tuple[str, ...]) -> set[str] | None:
    """Which of ``parts`` moved since ``seen``; None means draw everything (first draw)."""
    if not isinstance(seen, dict):
        return None
    return {p for p in parts if seen.get(p) != state.versions.get(p)}


def need(state: AppState, seen, parts) -> set[str] | None:
    """Like :func:`changed_parts` but stops the callback when nothing it draws has moved."""
    moved = changed_parts(state, seen, parts)
    if moved is not None and not moved:
        raise PreventUpdate
    return moved


def register_all(app, ctx: Context) -> None:
    import importlib

    for name in FEATURES:
        importlib.import_module(f"dashboard.callbacks.{name}").register(app, ctx)
