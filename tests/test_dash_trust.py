"""Trust beside the page: two pages on one workspace, the CLI importing meanwhile, a damaged
command log, a log that cannot be written, per-tab sessions, and skipping an image."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from dash_fixtures import opened, synthetic_dataset
from dashboard.commands import Label, LabelBatch, RemoveLabel, Select, SelectBatch, Skip, Step, Undo, Redo
from ssvae.labels import LabelStore, read_labels


def on_disk(ds, tmp_path):
    return read_labels(tmp_path / "labels.csv", ds.size, ds.class_names)


def log_entries(ws):
    return [json.loads(line) for line in (ws / "commands.jsonl").read_text().splitlines() if line.strip()]


# -- two pages on one workspace ------------------------------------------------------------
def test_two_pages_labeling_in_turn_keep_every_label_and_unique_seq(ds, ws, tmp_path):
    a, da = opened(ds, ws, tmp_path)
    b, db = opened(ds, ws, tmp_path)
    for i in range(10):
        res = (da if i % 2 else db).dispatch(Label(i, i % 3))
        assert res.ok, res.message
    assert on_disk(ds, tmp_path) == {i: i % 3 for i in range(10)}
    seqs = [e["seq"] for e in log_entries(ws)]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    # each page shows the other's labels after its next poll
    assert not da.sync()  # A wrote last, having merged B's labels
    assert db.sync() and not db.sync()  # B takes in A's last label on its next poll
    assert a.labels.as_dict() == b.labels.as_dict() == on_disk(ds, tmp_path)


def test_undo_in_one_page_never_deletes_the_other_pages_label(ds, ws, tmp_path):
    a, da = opened(ds, ws, tmp_path)
    b, db = opened(ds, ws, tmp_path)
    assert da.dispatch(Label(5, 1)).ok
    assert db.dispatch(Label(5, 2)).ok  # page B relabels the same image
    assert db.dispatch(Label(6, 2)).ok
    res = da.dispatch(Undo())  # A's undo of its own label: 5 is B's now
    assert res.ok and res.to_json().get("warning")
    assert "Serial 5 was changed elsewhere since (it is 2 now), so it was left as it is." in res.message
    assert on_disk(ds, tmp_path) == {5: 2, 6: 2}
    assert not da.dispatch(Undo()).ok  # nothing left to undo in A; B's history is B's
    assert db.dispatch(Undo()).ok and on_disk(ds, tmp_path) == {5: 2}


def test_page_sees_a_cli_import_within_its_next_poll_and_writes_on_top_of_it(ds, ws, tmp_path):
    state, disp = opened(ds, ws, tmp_path)
    disp.dispatch(Label(1, 1))
    versions = dict(state.versions)
    (tmp_path / "in.csv").write_text("Serial,label\n2,2\n3,0\n")
    LabelStore(tmp_path / "labels.csv", ds.size, ds.class_names).merge_file(tmp_path / "in.csv")
    assert disp.sync()  # what the page's tick does
    assert state.labels.as_dict() == {1: 1, 2: 2, 3: 0}
    assert state.versions["labels"] > versions["labels"]
    from dashboard.state import LabelDigest
    assert state.digest.hex() == LabelDigest(state.labels.as_dict()).hex()
    disp.dispatch(Label(4, 1))
    assert on_disk(ds, tmp_path) == {1: 1, 2: 2, 3: 0, 4: 1}
    assert disp.dispatch(Undo()).ok and disp.dispatch(Undo()).ok
    assert on_disk(ds, tmp_path) == {2: 2, 3: 0}  # the imported labels were never this page's


PAGE = r"""
import sys
sys.path[:0] = [sys.argv[4]]
from dash_fixtures import synthetic_dataset
from dashboard.app import open_state
from dashboard.commands import Label, Undo
ds = synthetic_dataset(n=2000, root=sys.argv[1])
state, disp = open_state(ds, sys.argv[2], sys.argv[3])
parity = int(sys.argv[5])
for i in range(150):
    s = 2 * i + parity
    res = disp.dispatch(Label(s, s % 3), session=f"tab{parity}")
    assert res.ok, res.message
    if i % 10 == 9:
        assert disp.dispatch(Undo(), session=f"tab{parity}").ok
        assert disp.dispatch(Label(s, s % 3), session=f"tab{parity}").ok
"""


def test_two_page_processes_at_once_lose_nothing(tmp_path):
    root = tmp_path / "data"
    synthetic_dataset(n=2000, root=root)
    ws = tmp_path / "ws"
    tests = os.path.dirname(__file__)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONPATH": os.pathsep.join([os.getcwd(), tests, os.environ.get("PYTHONPATH", "")])}
    procs = [subprocess.Popen([sys.executable, "-c", PAGE, str(root), str(tmp_path / "labels.csv"),
                               str(ws), tests, str(p)], env=env) for p in (0, 1)]
    for p in procs:
        assert p.wait(timeout=600) == 0
    ds = synthetic_dataset(n=2000, root=root)
    assert read_labels(tmp_path / "labels.csv", ds.size, ds.class_names) == {s: s % 3 for s in range(300)}
    seqs = [e["seq"] for e in log_entries(ws)]
    assert len(seqs) == 2 * (150 + 2 * 15) and len(set(seqs)) == len(seqs) and seqs == sorted(seqs)
    state, disp = opened(ds, ws, tmp_path)  # each tab's history, apart
    with state.session("tab0"):
        assert len(state.undo_stack) == 150 and all(e["args"]["serial"] % 2 == 0 for e in state.undo_stack)


# -- a damaged or unwritable command log --------------------------------------------------
@pytest.mark.parametrize("line", [
    "[1,2]", '{"seq":"x","cmd":"label"}', '"a bare string"', "42", "null", "{}",
    '{"seq":3}', '{"seq":3,"cmd":7}', '{"seq":3,"cmd":"label","effect":{"changes":"x"}}',
    '{"seq":3,"cmd":"label","effect":{"changes":[[1,"cat",2]]}}', '{"seq":3,"cmd":"label","sel":"7"}',
    '{"seq":3,"cmd":"undo","partial":[["a"]]}', '{"seq":3,"cmd":"select","args":[1]}',
    '{"seq":true,"cmd":"label"}', "\x00\xff garbage", '{"seq":1e400,"cmd":"x"}',
])
def test_a_malformed_log_line_anywhere_is_skipped_and_told_once(ds, ws, tmp_path, line):
    state, disp = opened(ds, ws, tmp_path)
    disp.dispatch(Label(1, 1))
    with open(ws / "commands.jsonl", "a", encoding="utf-8", errors="surrogateescape") as fh:
        fh.write(line + "\n")  # in the middle: more entries follow
    disp.dispatch(Label(2, 2))
    state2, disp2 = opened(ds, ws, tmp_path)
    assert state2.labels.as_dict() == {1: 1, 2: 2}
    assert len(state2.undo_stack) == 2
    notice = disp2.notices()
    assert notice.startswith("1 line of the command log") and "skipped" in notice
    assert disp2.notices() == ""  # once per tab
    assert disp2.notices("another-tab") == notice
    assert disp2.dispatch(Undo()).ok and disp2.dispatch(Undo()).ok


def test_a_torn_line_is_never_glued_to_the_next_append(ds, ws, tmp_path):
    state, disp = opened(ds, ws, tmp_path)
    disp.dispatch(Label(1, 1))
    with open(ws / "commands.jsonl", "a") as fh:
        fh.write('{"seq": 99, "cmd": "lab')  # crash mid-append, no newline
    state2, disp2 = opened(ds, ws, tmp_path)
    disp2.dispatch(Label(2, 2))
    state3, _ = opened(ds, ws, tmp_path)
    assert len(state3.undo_stack) == 2


def test_an_unwritable_log_keeps_the_label_and_says_undo_is_unavailable(ds, ws, tmp_path, monkeypatch):
    state, disp = opened(ds, ws, tmp_path)
    disp.dispatch(Label(1, 1))

    def full(entry):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(disp.log, "append", full)
    res = disp.dispatch(Label(2, 2))
    assert res.ok and res.to_json()["warning"]
    assert res.message.endswith("Undo is not available for this change: the command log "
                                f"{ws / 'commands.jsonl'} could not be written (No space left on "
                                "device); the labels are saved.")
    assert on_disk(ds, tmp_path) == {1: 1, 2: 2}
    assert len(state.undo_stack) == 1  # the older step is still undoable
    assert disp.dispatch(Undo()).ok and on_disk(ds, tmp_path) == {2: 2}


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files")
def test_a_read_only_log_is_told_too(ds, ws, tmp_path):
    state, disp = opened(ds, ws, tmp_path)
    disp.dispatch(Label(1, 1))
    os.chmod(ws / "commands.jsonl", 0o444)
    res = disp.dispatch(Label(2, 2))
    assert res.ok and "Undo is not available" in res.message and on_disk(ds, tmp_path) == {1: 1, 2: 2}


def test_a_kill_between_labels_csv_and_the_log_loses_only_the_last_step(ds, ws, tmp_path, monkeypatch):
    state, disp = opened(ds, ws, tmp_path)
    for s in (1, 2, 3):
        disp.dispatch(Label(s, 1))

    class Killed(BaseException):
        pass

    def killed(entry):
        raise Killed  # the process dies after labels.csv was written, before the log line

    monkeypatch.setattr(disp.log, "append", killed)
    with pytest.raises(Killed):
        disp.dispatch(Label(4, 2))
    monkeypatch.undo()
    state2, disp2 = opened(ds, ws, tmp_path)
    assert state2.labels.as_dict() == {1: 1, 2: 1, 3: 1, 4: 2}  # the label was acknowledged on disk
    assert [e["effect"]["changes"][0][0] for e in state2.undo_stack] == [1, 2, 3]
    for _ in range(3):
        assert disp2.dispatch(Undo()).ok
    assert state2.labels.as_dict() == {4: 2}


# -- per-tab sessions ----------------------------------------------------------------------
def test_each_tab_has_its_own_selection_and_undo(ds, ws, tmp_path):
    state, disp = opened(ds, ws, tmp_path)
    disp.dispatch(Select(10), session="A")
    disp.dispatch(Select(20), session="B")  # B's click does not move A's image
    with state.session("A"):
        assert state.selected == 10
    with state.session("B"):
        assert state.selected == 20
    disp.dispatch(Label(10, 1), session="A")
    disp.dispatch(Label(20, 2), session="B")
    res = disp.dispatch(Undo(), session="A")  # A's Ctrl+Z undoes A's label, not B's
    assert res.ok and state.labels.as_dict() == {20: 2}
    assert not disp.dispatch(Undo(), session="A").ok
    versions_a = disp.versions("A")
    disp.dispatch(Step(1), session="B")
    assert disp.versions("A")["selection"] == versions_a["selection"]
    disp.dispatch(SelectBatch([1, 2]), session="B")
    with state.session("A"):
        assert state.batch == ()
    assert not disp.dispatch(LabelBatch(1), session="A").ok
    # a restart keeps each tab's history apart
    state2, disp2 = opened(ds, ws, tmp_path)
    with state2.session("B"):
        assert len(state2.undo_stack) == 1 and state2.selected != 10
    with state2.session("A"):
        assert state2.undo_stack == [] and len(state2.redo_stack) == 1 and state2.selected == 10
    assert [e.get("session") for e in log_entries(ws) if e["cmd"] == "label"] == ["A", "B"]


def test_a_new_tab_starts_at_the_head_of_the_queue(ds, ws, tmp_path):
    state, disp = opened(ds, ws, tmp_path)
    with state.session("fresh"):
        assert state.selected == int(state.queue()[0])


# -- skip ----------------------------------------------------------------------------------
def test_skip_leaves_the_queue_persists_and_undoes_like_a_label(ds, ws, tmp_path):
    state, disp = opened(ds, ws, tmp_path)
    head = int(state.queue()[0])
    disp.dispatch(Select(head))
    res = disp.dispatch(Skip(head))
    assert res.ok and f"Set Serial {head} aside" in res.message
    assert head not in state.queue().tolist() and state.selected != head  # moved on
    assert state.skipped_count() == 1 and len(state.labels) == 0
    assert (tmp_path / "labels.csv").read_text() == "Serial,label\n"  # only real labels
    assert (tmp_path / "labels.skipped.csv").read_text() == f"Serial\n{head}\n"
    entry = log_entries(ws)[-1]
    assert entry["cmd"] == "skip" and entry["effect"] == {"changes": [[head, None, "skip"]]}
    state2, disp2 = opened(ds, ws, tmp_path)  # persists across a restart
    assert head not in state2.queue().tolist() and state2.skipped_count() == 1
    assert disp2.dispatch(Undo()).ok
    assert head in state2.queue().tolist() and state2.skipped_count() == 0
    assert disp2.dispatch(Redo()).ok and state2.labels.is_skipped(head)


def test_skip_of_a_labeled_image_and_labeling_a_skipped_one(ds, ws, tmp_path):
    state, disp = opened(ds, ws, tmp_path)
    disp.dispatch(Label(3, 1))
    res = disp.dispatch(Skip(3))
    assert "its label 1 is removed" in res.message and state.labels.as_dict() == {}
    assert disp.dispatch(Skip(3)).message == "Serial 3 is already set aside."
    disp.dispatch(Label(3, 2))  # a label ends the skip
    assert state.labels.as_dict() == {3: 2} and state.skipped_count() == 0
    disp.dispatch(Skip(4))
    res = disp.dispatch(RemoveLabel(4))  # Backspace on a skipped image brings it back
    assert res.ok and "no longer set aside" in res.message and state.skipped_count() == 0
    assert not disp.dispatch(Skip(999)).ok
    for _ in range(4):
        assert disp.dispatch(Undo()).ok
    assert state.labels.as_dict() == {3: 1} and state.skipped_count() == 0
