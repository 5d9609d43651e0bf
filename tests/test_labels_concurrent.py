"""Many writers on one labels.csv: two store objects, two processes, skips, conditional undo."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from filelock import FileLock

import ssvae.labels
from ssvae.errors import LabelsError
from ssvae.labels import SKIP, LabelStore, lock_path_for, read_labels

DIGITS = tuple("0123456789")


def rows(path):
    return path.read_text().splitlines()[1:]


def test_two_stores_on_one_file_never_lose_each_others_labels(tmp_path):
    path = tmp_path / "labels.csv"
    a = LabelStore(path, 100, DIGITS)
    b = LabelStore(path, 100, DIGITS)
    for i in range(10):  # labeling in turn, as two pages would
        (a if i % 2 else b).set(i, i % 10)
    assert read_labels(path, 100, DIGITS) == {i: i % 10 for i in range(10)}
    # each store took in the other's labels before writing its own
    assert a.as_dict() == {i: i % 10 for i in range(10)}
    assert b.external_changes > 0


def test_remove_in_one_store_keeps_the_others_new_labels(tmp_path):
    path = tmp_path / "labels.csv"
    a = LabelStore(path, 100, DIGITS)
    a.set(1, 1)
    b = LabelStore(path, 100, DIGITS)
    b.set(2, 2)
    a.remove(1)  # a has never seen 2 in memory
    assert read_labels(path, 100, DIGITS) == {2: 2}


def test_refresh_takes_in_a_change_made_on_disk(tmp_path):
    path = tmp_path / "labels.csv"
    a = LabelStore(path, 100, DIGITS)
    a.set(1, 1)
    assert not a.refresh()
    LabelStore(path, 100, DIGITS).set(3, 3)  # e.g. `ssvae labels import`
    assert a.refresh() and a.as_dict() == {1: 1, 3: 3}
    assert not a.refresh()


def test_merge_file_merges_against_what_is_on_disk(tmp_path):
    path = tmp_path / "labels.csv"
    page = LabelStore(path, 100, DIGITS)
    page.set(1, 1)
    cli = LabelStore(path, 100, DIGITS)
    page.set(2, 2)  # after the CLI opened the file
    (tmp_path / "in.csv").write_text("Serial,label\n5,5\n")
    report = cli.merge_file(tmp_path / "in.csv")
    assert report.added == 1
    assert read_labels(path, 100, DIGITS) == {1: 1, 2: 2, 5: 5}


def test_expected_value_guards_an_undo(tmp_path):
    path = tmp_path / "labels.csv"
    a = LabelStore(path, 100, DIGITS)
    b = LabelStore(path, 100, DIGITS)
    a.set(7, 3)
    b.set(7, 5)  # the other writer relabels it
    before = path.read_bytes()
    res = a.update({7: None}, expect={7: 3})  # a's undo of its own label
    assert res.applied == [] and res.conflicts == [[7, 5, 3]] and res.external
    assert path.read_bytes() == before and a.get(7) == 5
    res = a.update({7: None}, expect={7: 5})
    assert res.applied == [[7, 5, None]] and rows(path) == []


def test_a_skip_is_kept_beside_labels_csv_not_in_it(tmp_path):
    path = tmp_path / "labels.csv"
    store = LabelStore(path, 100, DIGITS)
    store.set(1, 1)
    res = store.update({1: SKIP, 2: SKIP})
    assert res.applied == [[1, 1, SKIP], [2, None, SKIP]]
    assert rows(path) == []  # labels.csv holds only real labels
    assert (tmp_path / "labels.skipped.csv").read_text() == "Serial\n1\n2\n"
    again = LabelStore(path, 100, DIGITS)
    assert again.skipped() == [1, 2] and again.status(1) == SKIP and len(again) == 0
    again.set(2, 4)  # a label ends the skip
    assert LabelStore(path, 100, DIGITS).skipped() == [1]
    assert rows(path) == ["2,4"]
    with pytest.raises(LabelsError, match="not a class index"):
        store.set(3, SKIP)


def test_a_label_wins_over_a_stale_skip_and_a_bad_skip_file_is_named(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("Serial,label\n4,4\n")
    (tmp_path / "labels.skipped.csv").write_text("Serial\n4\n6\n")  # crash between the files
    store = LabelStore(path, 10, DIGITS)
    assert store.skipped() == [6] and store.get(4) == 4
    (tmp_path / "labels.skipped.csv").write_text("Serial\n60\n")
    with pytest.raises(LabelsError, match=r"labels\.skipped\.csv: line 2: '60' is not a Serial"):
        LabelStore(path, 10, DIGITS)


def test_a_held_lock_is_one_sentence_and_changes_nothing(tmp_path, monkeypatch):
    path = tmp_path / "labels.csv"
    store = LabelStore(path, 10, DIGITS)
    store.set(1, 1)
    monkeypatch.setattr(ssvae.labels, "LOCK_TIMEOUT_S", 0.05)
    store = LabelStore(path, 10, DIGITS)
    with FileLock(lock_path_for(path)):
        import threading

        errors = []
        t = threading.Thread(target=lambda: _try(store, errors))  # another thread = another fd
        t.start()
        t.join()
    assert len(errors) == 1 and "held its lock" in errors[0] and errors[0].endswith("done.")
    assert rows(path) == ["1,1"]


def _try(store, errors):
    try:
        store.set(2, 2)
    except LabelsError as exc:
        errors.append(str(exc))


WRITER = r"""
import sys
from ssvae.labels import LabelStore
path, parity, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
store = LabelStore(path, 100000, tuple("0123456789"))
for i in range(n):
    serial = 2 * i + parity
    store.set(serial, serial % 10)
    if i % 7 == 3:                      # and now and then remove one of its own
        store.remove(serial)
        store.set(serial, serial % 10)
"""


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    path = tmp_path / "labels.csv"
    n = 300
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(p), str(n)], env=env)
             for p in (0, 1)]
    for p in procs:
        assert p.wait(timeout=300) == 0
    labels = read_labels(path, 100000, DIGITS)
    assert labels == {s: s % 10 for s in range(2 * n)}
