"""Crash safety: SIGKILL a writer at random moments; labels.csv must always parse and hold
every label whose write had returned."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

from ssvae.labels import read_labels

WRITER = r"""
import sys
from ssvae.labels import LabelStore
path, start = sys.argv[1], int(sys.argv[2])
store = LabelStore(path, 100000, tuple("0123456789"))
i = start
while True:
    store.set(i, i % 10)
    sys.stdout.write(f"{i}\n"); sys.stdout.flush()   # acknowledged: the write returned
    i += 1
"""

KILLS = 80


def test_sigkill_at_random_moments_never_loses_an_acknowledged_label(tmp_path):
    path = tmp_path / "labels.csv"
    rng = random.Random(1234)
    acknowledged: set[int] = set()
    start = 0
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    for _ in range(KILLS):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(start)],
                                stdout=subprocess.PIPE, env=env, text=True)
        first = proc.stdout.readline()  # wait until it has written at least once
        assert first, "writer died before its first write"
        time.sleep(rng.uniform(0, 0.02))
        proc.send_signal(signal.SIGKILL)
        rest, _ = proc.communicate()
        proc.wait()
        acknowledged.update(int(x) for x in (first + rest).split())
        labels = read_labels(path, 100000, tuple("0123456789"))  # must parse, whole
        missing = acknowledged - labels.keys()
        assert not missing, f"acknowledged labels lost after a kill: {sorted(missing)[:5]}"
        assert all(labels[s] == s % 10 for s in acknowledged)
        start = max(labels) + 1
    assert len(acknowledged) > KILLS
