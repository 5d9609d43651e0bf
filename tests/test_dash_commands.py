"""Commands, the dispatcher, undo/redo and the persisted command log."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import ClassVar  # module level: dataclasses must see it to skip ClassVar fields

import numpy as np
import pytest

from dash_fixtures import opened, synthetic_dataset, synthetic_predictions
from dashboard.commands import (COMMANDS, ClearBatch, Command, ImportLabels, Label, LabelBatch,
                                LoadPredictions, Redo, RemoveLabel, Select, SelectBatch, SetColorBy,
                                SetStrategy, Step, Undo)


def csv_rows(path):
    return path.read_text().splitlines()[1:]


def test_label_writes_csv_logs_and_bumps_versions(ds, ws, tmp_path):
    state, disp = opened(ds, ws, tmp_path)
    before = dict(state.versions)
    res = disp.dispatch(Label(7, 3))
    assert res.ok and "Serial 7" in res.message
    assert csv_rows(tmp_path / "labels.csv") == ["7,3"]
    assert state.versions["labels"] == before["labels"] + 1
    entries = [json.loads(line) for line in (ws / "commands.jsonl").read_text().splitlines()]
    assert entries[-1]["cmd"] == "label" and entries[-1]["effect"] == {"changes": [[7, None, 3]]}


@pytest.mark.parametrize("cmd, message", [
    (Label(-1, 3), "outside the data set"),
    (Label(120, 3), "outside the data set"),
    (Label("7", 3), "whole number"),
    (Label(7.5, 3), "whole number"),
    (Label(None, 3), "not nothing"),
    (Label(True, 3), "whole number"),
    (Label(7, 10), "not a class"),
    (Label(7, "cat"), "not a class"),
    (Label(7, None), "not a class"),
    (Label(float("nan"), 1), "whole number"),
    (RemoveLabel(5), "no label to remove"),
    (Undo(), "nothing to undo"),
    (Redo(), "nothing to redo"),
    (SetColorBy("rainbow"), "not one of"),
    (SetStrategy("entropy", "yes"), "true or false"),
    (SetStrategy("smartest", False), "not one of"),
    (Step(5), "must be -1 or 1"),
    (SelectBatch("1,2,3"), "list of Serials"),
    (SelectBatch([1, 2, 999]), "outside the data set"),
    (LabelBatch(2), "nothing is selected"),
    (ImportLabels("Serial,label\n1,cat\n", "x.csv"), "not one of the classes"),
    (ImportLabels(None), "not text"),
])
def test_rejected_commands_change_nothing(ds, ws, tmp_path, cmd, message):
    (tmp_path / "labels.csv").write_text("Serial,label\n3,1\n")
    state, disp = opened(ds, ws, tmp_path)
    disp.dispatch(Select(3))
    csv_before = (tmp_path / "labels.csv").read_text()
    log_before = (ws / "commands.jsonl").read_text()
    versions = dict(state.versions)
    res = disp.dispatch(cmd)
    assert not res.ok
    assert message.lower() in res.message.lower()
    assert res.message[0].isupper() and res.message.endswith(".")
    assert (tmp_path / "labels.csv").read_text() == csv_before
    assert (ws / "commands.jsonl").read_text() == log_before
    assert state.versions == versions


def test_undo_redo_and_new_action_clears_redo(ds, ws, tmp_path):
    state, disp = opened(ds, ws, tmp_path)
    disp.dispatch(Label(1, 1))
    disp.dispatch(Label(2, 2))
    disp.dispatch(Label(1, 5))  # relabel
    assert state.labels.as_dict() == {1: 5, 2: 2}
    assert disp.dispatch(Undo()).ok
    assert state.labels.as_dict() == {1: 1, 2: 2}
    assert state.selected == 1  # undo shows the image it changed
    assert disp.dispatch(Undo()).ok
    assert state.labels.as_dict() == {1: 1}
    assert disp.dispatch(Redo()).ok
    assert state.labels.as_dict() == {1: 1, 2: 2}
    disp.dispatch(Label(9, 9))
    assert not disp.dispatch(Redo()).ok  # a new change forgets the redo branch
    assert sorted(csv_rows(tmp_path / "labels.csv")) == ["1,1", "2,2", "9,9"]


def test_undo_remove_restores_label(ds, ws, tmp_path):
    state, disp = opened(ds, ws, tmp_path)
    disp.dispatch(Label(4, 6))
    disp.dispatch(RemoveLabel(4))
    assert 4 not in state.labels
    disp.dispatch(Undo())
    assert state.labels.get(4) == 6


def test_undo_redo_survive_a_restart(ds, ws, tmp_path):
    state, disp = opened(ds, ws, tmp_path)
    disp.dispatch(Label(1, 1))
    disp.dispatch(Label(2, 2))
    disp.dispatch(Undo())
    disp.dispatch(SetColorBy("predicted"))
    disp.dispatch(Select(42))
    # a new server process on the same files
    state2, disp2 = opened(ds, ws, tmp_path)
    assert state2.labels.as_dict() == {1: 1}
    assert len(state2.undo_stack) == 1 and len(state2.redo_stack) == 1
    assert state2.color_by == "predicted" and state2.selected == 42
    assert disp2.dispatch(Redo()).ok
    assert state2.labels.as_dict() == {1: 1, 2: 2}
    assert disp2.dispatch(Undo()).ok and disp2.dispatch(Undo()).ok
    assert state2.labels.as_dict() == {}
    assert len(state2.history) >= 2


def test_labels_changed_outside_keep_the_undo_history_and_guard_it(ds, ws, tmp_path):
    state, disp = opened(ds, ws, tmp_path)
    disp.dispatch(Label(1, 1))
    disp.dispatch(Label(2, 2))
    (tmp_path / "labels.csv").write_text("Serial,label\n1,1\n2,7\n5,5\n")  # edited by hand
    state2, disp2 = opened(ds, ws, tmp_path)
    assert state2.labels.as_dict() == {1: 1, 2: 7, 5: 5}
    assert len(state2.undo_stack) == 2  # the history is kept, not dropped
    res = disp2.dispatch(Undo())  # Serial 2 is no longer what the step wrote: left alone
    assert res.ok and "Serial 2 was changed elsewhere" in res.message and res.message.count(".") == 1
    assert state2.labels.as_dict() == {1: 1, 2: 7, 5: 5}
    assert disp2.dispatch(Undo()).ok  # Serial 1 is still as it was labeled: reverted
    assert state2.labels.as_dict() == {2: 7, 5: 5}
    assert not disp2.dispatch(Undo()).ok
    state3, disp3 = opened(ds, ws, tmp_path)  # the same after a restart
    assert state3.undo_stack == [] and len(state3.redo_stack) == 1
    assert disp3.dispatch(Redo()).ok and state3.labels.as_dict() == {1: 1, 2: 7, 5: 5}


def test_torn_last_log_line_is_skipped(ds, ws, tmp_path):
    state, disp = opened(ds, ws, tmp_path)
    disp.dispatch(Label(1, 1))
    with open(ws / "commands.jsonl", "a") as fh:
        fh.write('{"seq": 99, "cmd": "lab')  # crash mid-append
    state2, disp2 = opened(ds, ws, tmp_path)
    assert state2.labels.as_dict() == {1: 1}
    assert disp2.dispatch(Undo()).ok


def test_auto_advance_moves_to_next_in_queue(ds, ws, tmp_path):
    state, disp = opened(ds, ws, tmp_path)
    queue = [int(s) for s in state.queue()]
    disp.dispatch(Select(queue[0]))
    disp.dispatch(Label(queue[0], 2))
    assert state.selected == queue[1]
    disp.dispatch(Step(1))
    assert state.selected == queue[2]
    disp.dispatch(Step(-1))
    assert state.selected == queue[1]
    disp.dispatch(Label(0 if queue[1] != 0 else 1, 2))  # labeling another image: no jump
    assert state.selected == queue[1]


def test_auto_advance_off(ds, ws, tmp_path):
    from dashboard.commands import SetAutoAdvance

    state, disp = opened(ds, ws, tmp_path)
    disp.dispatch(SetAutoAdvance(False))
    s = int(state.queue()[0])
    disp.dispatch(Select(s))
    disp.dispatch(Label(s, 2))
    assert state.selected == s


def test_queue_uses_ranking_and_skips_labeled(ds, ws, tmp_path):
    from ssvae.ranking import rank

    state, disp = opened(ds, ws, tmp_path)
    disp.dispatch(SetStrategy("margin", False))
    expected = rank(state.predictions.scores, "margin", state.queue_size, state.labels.as_array())
    assert state.queue().tolist() == expected.tolist()
    first = int(expected[0])
    disp.dispatch(Label(first, 0))
    assert first not in state.queue().tolist()
    disp.dispatch(SetStrategy("entropy", True))
    assert len(set(state.queue().tolist())) == state.queue_size


def test_batch_label_and_undo_as_one_step(ds, ws, tmp_path):
    state, disp = opened(ds, ws, tmp_path)
    disp.dispatch(Label(3, 3))
    assert disp.dispatch(SelectBatch([3, 10, 11, 12])).ok
    res = disp.dispatch(LabelBatch(4))
    assert res.ok and "Labeled 4 images" in res.message
    assert state.batch == ()
    assert {s: state.labels.get(s) for s in (3, 10, 11, 12)} == {3: 4, 10: 4, 11: 4, 12: 4}
    disp.dispatch(Undo())
    assert state.labels.as_dict() == {3: 3}
    assert disp.dispatch(ClearBatch()).ok


def test_import_merges_with_conflict_policy_and_undoes(ds, ws, tmp_path):
    state, disp = opened(ds, ws, tmp_path)
    disp.dispatch(Label(1, 1))
    text = "Serial,label\n1,7\n2,2\n"
    res = disp.dispatch(ImportLabels(text, "theirs.csv", "ours"))
    assert res.ok and "1 new" in res.message and "1 conflict " in res.message
    assert state.labels.as_dict() == {1: 1, 2: 2}
    disp.dispatch(Undo())
    res = disp.dispatch(ImportLabels(text, "theirs.csv", "theirs"))
    assert state.labels.as_dict() == {1: 7, 2: 2}
    entries = (ws / "commands.jsonl").read_text()
    assert "Serial,label" not in entries  # the file's text is not copied into the log


def test_load_predictions_and_strategies_without_model(ds, tmp_path):
    ws = tmp_path / "empty-ws"
    state, disp = opened(ds, ws, tmp_path)
    assert state.predictions is None
    assert state.available_strategies() == ("random",)
    assert len(state.queue()) == state.queue_size  # random order until the first training
    res = disp.dispatch(SetStrategy("entropy", False))
    assert not res.ok and "needs a trained model" in res.message
    assert disp.dispatch(Label(int(state.queue()[0]), 1)).ok
    res = disp.dispatch(LoadPredictions())
    assert not res.ok and "not found" in res.message
    synthetic_predictions(ds).save(state.workspace.predictions)  # the selected model's
    v = state.versions["predictions"]
    res = disp.dispatch(LoadPredictions())
    assert res.ok and state.predictions is not None and state.versions["predictions"] == v + 1


def test_predictions_for_another_data_set_are_refused(ds, tmp_path):
    other = synthetic_dataset(n=50, root=tmp_path / "other")
    ws = tmp_path / "ws2"
    ws.mkdir()
    synthetic_predictions(other).save(ws / "predictions.npz")
    state, disp = opened(ds, ws, tmp_path)
    assert state.predictions is None
    res = disp.dispatch(LoadPredictions())
    assert not res.ok and "50 images" in res.message


def test_plugins_register_commands_through_the_same_dispatcher(ds, ws, tmp_path):
    from dashboard.commands import Outcome, register

    @register
    @dataclass
    class StartTraining(Command):
        name: ClassVar[str] = "test_start_training"
        epochs: int = 1

        def apply(self, state, change):
            state.training["running"] = True
            state.bump("training")
            return Outcome("started")

    try:
        state, disp = opened(ds, ws, tmp_path)
        seen = []
        disp.listeners.append(lambda cmd, res: seen.append(cmd.name))
        assert disp.dispatch(StartTraining(2)).ok
        assert state.versions["training"] == 1 and seen == ["test_start_training"]
        assert Command.from_json("test_start_training", {"epochs": 3}).epochs == 3
    finally:
        COMMANDS.pop("test_start_training", None)


def test_failed_write_changes_nothing(ds, ws, tmp_path, monkeypatch):
    import ssvae.labels

    state, disp = opened(ds, ws, tmp_path)
    disp.dispatch(Label(1, 1))
    versions = dict(state.versions)

    def full_disk(path, data):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(ssvae.labels, "atomic_write_bytes", full_disk)
    res = disp.dispatch(Label(2, 2))
    assert not res.ok and "No space left" in res.message
    assert state.labels.as_dict() == {1: 1} and state.versions == versions
    assert len(state.undo_stack) == 1


def test_selection_after_keys_and_auto_advance_survives_restart(ds, ws, tmp_path):
    state, disp = opened(ds, ws, tmp_path)
    disp.dispatch(Select(int(state.queue()[0])))
    disp.dispatch(Label(state.selected, 1))  # auto-advance moves on
    disp.dispatch(Step(1))
    where = state.selected
    state2, _ = opened(ds, ws, tmp_path)
    assert state2.selected == where


def test_running_label_digest_matches_a_fresh_one(ds, ws, tmp_path):
    from dashboard.state import LabelDigest

    state, disp = opened(ds, ws, tmp_path)
    for cmd in (Label(1, 1), Label(2, 2), Label(1, 3), RemoveLabel(2), SelectBatch([5, 6, 7]),
                LabelBatch(4), Undo(), Redo(), ImportLabels("Serial,label\n9,9\n1,0\n", "x.csv", "theirs"),
                Undo()):
        assert disp.dispatch(cmd).ok
        assert state.digest.hex() == LabelDigest(state.labels.as_dict()).hex()


def test_concurrent_commands_are_applied_one_at_a_time(ds, ws, tmp_path):
    import threading

    state, disp = opened(ds, ws, tmp_path)
    errors = []

    def worker(offset):
        for i in range(25):
            res = disp.dispatch(Label(offset * 25 + i, offset))
            if not res.ok:
                errors.append(res.message)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(csv_rows(tmp_path / "labels.csv")) == 100
    assert len(state.undo_stack) == 100
    logged = [json.loads(line) for line in (ws / "commands.jsonl").read_text().splitlines()]
    assert sum(e["cmd"] == "label" for e in logged) == 100
    assert len({e["seq"] for e in logged}) == len(logged)


def test_auto_queue_clusters_the_images_components_where_the_predictions_carry_them(ds, tmp_path):
    """``query.typical_on: images``: the page's typical phase ranks by the predictions'
    ``image_embedding``, as the simulation does."""
    from dataclasses import replace

    from dash_fixtures import page_workspace, synthetic_predictions
    from ssvae.ranking import rank

    plain = synthetic_predictions(ds, num_labels=0)
    plain = replace(plain, embedding=plain.latent)
    images = np.random.default_rng(5).normal(size=(ds.size, 6)).astype(np.float32)
    state, disp = opened(ds, page_workspace(tmp_path, replace(plain, image_embedding=images)),
                         tmp_path)
    disp.dispatch(SetStrategy("auto", False))
    args = (plain.scores, "auto", state.queue_size, state.labels.done_mask())
    kw = dict(latent=plain.latent, features=plain.embedding, num_classes=ds.num_classes)
    want = rank(*args, typical_features=images, **kw)
    assert state.queue().tolist() == want.tolist()
    assert want.tolist() != rank(*args, **kw).tolist()
