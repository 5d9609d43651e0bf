"""The channel between the web process and the training worker: a diskcache store.

Everything in it is JSON (``diskcache.JSONDisk``), so neither side unpickles what the other
wrote. Keys:

``job-…``            queue of job requests (``{"type": "train", …}`` or ``{"type": "shutdown"}``)
``stop:<run>``       stop flag for one run
``state``            the worker's state: status, run, epoch of epochs, ETA, pid, message
``curves:<run>``     the run's progress events so far (per epoch and every N steps)
``progress_version`` bumped with each progress event
``runs``             history of finished runs (labels used, epochs, losses, test accuracy)
``result_version``   bumped when a new predictions snapshot and checkpoint are on disk
``error``            the last error, with its message
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import diskcache

# statuses of the worker, as the page shows them
STARTING, IDLE, TRAINING, STOPPING, ERROR, DEAD = (
    "starting", "idle", "training", "stopping", "error", "dead")
QUEUED = "queued"
BUSY = (QUEUED, STARTING, TRAINING, STOPPING)


class Channel:
    """One side's handle on the store; cheap to create, safe across processes."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.cache = diskcache.Cache(str(directory), disk=diskcache.JSONDisk, timeout=10)

    def close(self) -> None:
        self.cache.close()

    def _bump(self, key: str) -> None:
        """Increment a counter (call inside a transaction; JSONDisk has no native incr)."""
        self.cache.set(key, int(self.cache.get(key, 0)) + 1)

    # -- jobs --------------------------------------------------------------------------
    def submit(self, job: dict[str, Any]) -> None:
        self.cache.push(job, prefix="job")

    def next_job(self) -> dict[str, Any] | None:
        _, job = self.cache.pull(prefix="job")
        return job

    def has_pending_job(self) -> bool:
        # peek, not iterkeys: queue keys are raw strings that JSONDisk cannot decode
        key, _ = self.cache.peek(prefix="job")
        return key is not None

    def last_pending_job(self) -> dict[str, Any] | None:
        """The newest job not yet taken by the worker (jobs run in order), or None."""
        key, job = self.cache.peek(prefix="job", side="back")
        return job if key is not None else None

    def clear_jobs(self) -> None:
        while self.next_job() is not None:
            pass

    # -- stop ---------------------------------------------------------------------------
    def request_stop(self, run_id: str) -> None:
        self.cache.set(f"stop:{run_id}", True, expire=24 * 3600)

    def stop_requested(self, run_id: str) -> bool:
        return bool(self.cache.get(f"stop:{run_id}", False))

    # -- state --------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return self.cache.get("state", {"status": DEAD, "message": "no training worker yet"})

    def set_state(self, **fields: Any) -> dict[str, Any]:
        with self.cache.transact():
            return self._merge_state(fields)

    def _merge_state(self, fields: dict[str, Any]) -> dict[str, Any]:
        state = {**self.cache.get("state", {}), **fields, "updated": time.time()}
        self.cache.set("state", state)
        return state

    def set_state_if(self, expect: dict[str, Any], **fields: Any) -> bool:
        """Set ``fields`` only while the state still holds ``expect`` (checked and set in one
        transaction: the page may have queued a run meanwhile). Whether it did."""
        with self.cache.transact():
            state = self.cache.get("state", {})
            if any(state.get(k) != v for k, v in expect.items()):
                return False
            self._merge_state(fields)
        return True

    # -- progress -------------------------------------------------------------------------
    def publish_curves(self, run_id: str, events: list[dict[str, Any]]) -> None:
        with self.cache.transact():
            self.cache.set(f"curves:{run_id}", events, expire=7 * 24 * 3600)
            self._bump("progress_version")

    def curves(self, run_id: str | None) -> list[dict[str, Any]]:
        return self.cache.get(f"curves:{run_id}", []) if run_id else []

    def progress_version(self) -> int:
        return int(self.cache.get("progress_version", 0))

    # -- results ------------------------------------------------------------------------
    def publish_run(self, summary: dict[str, Any], new_result: bool,
                    state: dict[str, Any] | None = None) -> None:
        """Add the run's summary (replacing one of the same run) and, in the same transaction,
        set ``state``: a reader never sees the run ended while the worker still says it trains."""
        with self.cache.transact():
            if state:
                self._merge_state(state)
            runs = self.cache.get("runs", [])
            runs = [r for r in runs if r.get("run_id") != summary.get("run_id")] + [summary]
            self.cache.set("runs", runs)
            if new_result:
                self._bump("result_version")
            self._bump("progress_version")

    def runs(self) -> list[dict[str, Any]]:
        return self.cache.get("runs", [])

    def result_version(self) -> int:
        return int(self.cache.get("result_version", 0))

    # -- errors -------------------------------------------------------------------------
    def publish_error(self, message: str, run_id: str | None = None) -> None:
        self.cache.set("error", {"message": message, "run_id": run_id, "at": time.time()})

    def error(self) -> dict[str, Any] | None:
        return self.cache.get("error")

    def clear_error(self) -> None:
        self.cache.delete("error")
