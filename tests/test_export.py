"""Exports (issue 12) and writing into what the user names (issue 11, item 4): labels as CSV,
JSON Lines and class folders, predictions as CSV and Parquet, each round-tripped; symlinks,
devices, modes and bad targets; --json and --version."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from ssvae.cli import main
from ssvae.data import load_dataset
from ssvae.export import (ExportError, atomic_write_into, class_folder_names, predictions_frame,
                          read_label_folders, write_into)
from ssvae.labels import LabelStore
from ssvae.predictions import Predictions
from ssvae.ranking import probability_scores

CLASSES = ["ant", "bee", "cow"]
N = 30


@pytest.fixture
def toy(tmp_path, monkeypatch):
    """A 30-image npz data set with three named classes and four labels."""
    monkeypatch.setenv("SSVAE_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("SSVAE_ARTIFACTS", str(tmp_path / "artifacts"))
    path = tmp_path / "toy.npz"
    x = (np.arange(N * 36) * 7 % 256).astype(np.uint8).reshape(N, 6, 6)
    np.savez(path, x=x, y=np.arange(N) % 3, class_names=np.array(CLASSES))
    other = tmp_path / "seed.csv"
    other.write_text("Serial,label\n0,ant\n4,cow\n7,bee\n29,cow\n")
    assert main(["labels", "import", str(other), "--dataset", f"npz:{path}"]) == 0
    return f"npz:{path}"


def labels_of(source: str) -> dict[int, str]:
    ds = load_dataset(source)
    store = LabelStore.for_dataset(ds)
    return {s: ds.class_names[k] for s, k in store.as_dict().items()}


def fake_predictions(n: int, k: int, seed: int = 0) -> Predictions:
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, k)).astype(np.float32)
    probs = (np.exp(logits) / np.exp(logits).sum(1, keepdims=True)).astype(np.float32)
    scores = probability_scores(probs)
    scores["bald"] = rng.random(n).astype(np.float32)
    return Predictions(latent=rng.normal(size=(n, 4)).astype(np.float32),
                       map2d=rng.normal(size=(n, 2)).astype(np.float32) * 3, probs=probs,
                       recon=np.zeros((0,), np.uint8), scores=scores,
                       meta={"epoch": 2, "num_labels": 4})


def run_cli(*args, stdout=None):
    """The console script in a fresh interpreter: (return code, stdout, stderr)."""
    proc = subprocess.run([sys.executable, "-m", "ssvae", *args],
                          stdout=subprocess.PIPE if stdout is None else stdout,
                          stderr=subprocess.PIPE, text=True)
    return proc.returncode, proc.stdout, proc.stderr


def one_sentence(rc, err):
    assert rc == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ssvae: error: "), err
    assert "Traceback" not in err
    return lines[0]


# -- writing into ---------------------------------------------------------------------------
def test_new_files_get_the_umask_mode_not_0600(tmp_path):
    old = os.umask(0o022)
    try:
        write_into(tmp_path / "a.csv", b"x\n")
        atomic_write_into(tmp_path / "sub" / "b.csv", b"y\n", make_parents=True)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.csv").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "sub" / "b.csv").stat().st_mode) == 0o644
    assert (tmp_path / "sub" / "b.csv").read_bytes() == b"y\n"


def test_a_replaced_file_keeps_its_mode(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("old\n")
    path.chmod(0o640)
    write_into(path, b"new\n")
    assert path.read_text() == "new\n" and stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["labels.csv"]  # no temporary file left


def test_a_symlink_stays_a_symlink_and_its_target_gets_the_content(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "labels.csv"
    target.write_text("old\n")
    link = tmp_path / "labels.csv"
    link.symlink_to(target)
    hop = tmp_path / "hop.csv"  # a chain of two links
    hop.symlink_to(link)
    write_into(hop, b"new\n")
    assert link.is_symlink() and hop.is_symlink()
    assert target.read_text() == "new\n"
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to(tmp_path / "real" / "made.csv")
    write_into(dangling, b"made\n")
    assert dangling.is_symlink() and (tmp_path / "real" / "made.csv").read_text() == "made\n"


def test_a_hard_linked_file_is_written_in_place(tmp_path):
    a = tmp_path / "a.csv"
    a.write_text("old\n")
    os.link(a, tmp_path / "b.csv")
    write_into(a, b"new\n")
    assert (tmp_path / "b.csv").read_text() == "new\n"
    assert a.stat().st_ino == (tmp_path / "b.csv").stat().st_ino


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_dev_full_is_refused_in_one_sentence_and_stays_a_device():
    before = os.stat("/dev/full")
    with pytest.raises(ExportError, match="No space left"):
        write_into("/dev/full", b"Serial,label\n")
    after = os.stat("/dev/full")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev


@pytest.mark.parametrize("where", ["", "folder", "under-file", "missing-folder", "/proc/version"])
def test_bad_targets_are_one_sentence(tmp_path, where):
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "folder").mkdir()
    path = {"": "", "folder": str(tmp_path / "folder"),
            "under-file": str(tmp_path / "file.txt" / "out.csv"),
            "missing-folder": str(tmp_path / "nope" / "out.csv"), "/proc/version": "/proc/version"}[where]
    if where == "/proc/version" and not os.path.exists(path):
        pytest.skip("no /proc")
    with pytest.raises(ExportError) as info:
        write_into(path, b"x\n")
    assert "\n" not in str(info.value) and str(info.value).endswith(".")
    assert (tmp_path / "file.txt").read_text() == "x" and not list((tmp_path / "folder").iterdir())


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write a read-only file")
def test_a_read_only_file_is_left_alone(tmp_path):
    path = tmp_path / "ro.csv"
    path.write_text("keep\n")
    path.chmod(0o444)
    with pytest.raises(ExportError, match="read-only"):
        write_into(path, b"new\n")
    assert path.read_text() == "keep\n"


def test_cli_export_bad_targets_one_line_no_traceback(toy, tmp_path):
    (tmp_path / "file.txt").write_text("x")
    targets = ["", str(tmp_path), str(tmp_path / "file.txt" / "out.csv"),
               str(tmp_path / "nope" / "out.csv")]
    targets += [p for p in ("/dev/full", "/proc/version") if os.path.exists(p)]
    for target in targets:
        rc, _, err = run_cli("labels", "export", target, "--dataset", toy)
        one_sentence(rc, err)
    if os.path.exists("/dev/full"):
        assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
    rc, _, err = run_cli("labels", "export", str(tmp_path / "file.txt"), "--format", "folders",
                         "--dataset", toy)
    assert "is a file" in one_sentence(rc, err)


def test_cli_export_to_stdout_redirected_writes_into_the_open_file(toy, tmp_path):
    out = tmp_path / "redirected.csv"
    with open(out, "w") as fh:
        rc, _, err = run_cli("labels", "export", "/dev/stdout", "--dataset", toy, stdout=fh)
    assert rc == 0, err
    assert out.read_text() == "Serial,label\n0,ant\n4,cow\n7,bee\n29,cow\n"
    assert "wrote 4 labels" in err  # the status line stays out of the export


# -- labels -------------------------------------------------------------------------------
def test_labels_csv_export_imports_back_to_the_same_labels(toy, tmp_path, monkeypatch):
    before = labels_of(toy)
    out = tmp_path / "export.csv"
    assert main(["labels", "export", str(out), "--dataset", toy]) == 0
    monkeypatch.setenv("SSVAE_DATA", str(tmp_path / "fresh"))
    assert labels_of(toy) == {}
    assert main(["labels", "import", str(out), "--dataset", toy]) == 0
    assert labels_of(toy) == before


def test_labels_jsonl_export_reads_back_to_the_same_labels(toy, tmp_path):
    out = tmp_path / "labels.jsonl"  # the format follows the extension
    assert main(["labels", "export", str(out), "--dataset", toy]) == 0
    frame = pd.read_json(out, lines=True)
    assert list(frame.columns) == ["Serial", "label"]
    assert dict(zip(frame["Serial"], frame["label"])) == labels_of(toy)


def test_labels_folders_export_is_a_class_folder_data_set(toy, tmp_path, capsys):
    out = tmp_path / "classes"
    assert main(["labels", "export", str(out), "--format", "folders", "--dataset", toy]) == 0
    assert "wrote 4 images in 3 class folders" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == CLASSES
    ds = load_dataset(toy)
    back = read_label_folders(out, ds.class_names)
    assert {s: ds.class_names[k] for s, k in back.items()} == labels_of(toy)
    for s, k in back.items():  # lossless PNGs of the very images
        png = out / CLASSES[k] / f"{s:02d}.png"
        assert np.array_equal(np.asarray(Image.open(png)), ds.images[s, :, :, 0])
    # a class-folder reader (our own folder: source) sees the same images under the same classes
    again = load_dataset(f"folder:{out}", image_size=(6, 6))
    assert again.class_names == tuple(CLASSES) and again.size == 4
    for i, rel in enumerate(again.paths):
        cls, name = rel.split("/")
        assert labels_of(toy)[int(name[:-4])] == cls
        assert np.array_equal(again.images[i], ds.images[int(name[:-4])])
    # never into a folder that holds something
    assert main(["labels", "export", str(out), "--format", "folders", "--dataset", toy]) == 2


def test_class_folder_names_are_safe_and_distinct():
    names = class_folder_names(["a/b", "..", "", "Cat", "cat", "ok"])
    assert names == ["a_b", "class_1", "class_2", "Cat", "cat_2", "ok"]
    assert all(os.sep not in n for n in names)


def test_jsonl_and_predictions_carry_the_file_of_a_folder_source(tmp_path, monkeypatch):
    monkeypatch.setenv("SSVAE_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("SSVAE_ARTIFACTS", str(tmp_path / "artifacts"))
    root = tmp_path / "imgs"
    for cls in ("left", "right"):
        (root / cls).mkdir(parents=True)
        for j in range(3):
            Image.fromarray(np.full((5, 5), 40 * j, np.uint8)).save(root / cls / f"im{j}.png")
    source = f"folder:{root}"
    seed = tmp_path / "seed.csv"
    seed.write_text("Serial,label\n1,left\n4,right\n")
    assert main(["labels", "import", str(seed), "--dataset", source]) == 0
    out = tmp_path / "l.jsonl"
    assert main(["labels", "export", str(out), "--dataset", source]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows == [{"Serial": 1, "label": "left", "file": "left/im1.png"},
                    {"Serial": 4, "label": "right", "file": "right/im1.png"}]
    ds = load_dataset(source)
    ws = tmp_path / "ws"
    ws.mkdir()
    fake_predictions(ds.size, 2).save(ws / "predictions.npz")
    csv = tmp_path / "p.csv"
    assert main(["predictions", "export", str(csv), "--run", str(ws), "--dataset", source]) == 0
    frame = pd.read_csv(csv, keep_default_na=False)
    assert list(frame["file"]) == list(ds.paths)


def test_labels_stats_json(toy, capsys):
    assert main(["labels", "stats", "--json", "--dataset", toy]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["images"] == N and out["labeled"] == 4 and out["dataset"] == "toy"
    assert out["classes"] == [{"name": "ant", "labeled": 1}, {"name": "bee", "labeled": 1},
                              {"name": "cow", "labeled": 2}]
    assert out["labels_file"].endswith("labels.csv")


def test_data_info_json(toy, capsys):
    assert main(["data", "info", "--json", "--dataset", toy]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["images"] == N and out["image_shape"] == [6, 6, 1] and out["test_images"] is None
    assert out["labeled"] == 4
    assert out["classes"][2] == {"name": "cow", "truth": 10, "labeled": 2}
    assert set(out) == {"dataset", "source", "notes", "images", "image_shape", "test_images",
                        "labels_file", "labeled", "classes"}


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("ssvae ") and len(out.split()) >= 2


# -- predictions ----------------------------------------------------------------------------
@pytest.fixture
def workspace(toy):
    """The toy data set's current model (the folder the page and ``ssvae train`` update)."""
    from ssvae.workspace import model_dir

    ws = model_dir("toy")
    ws.mkdir(parents=True, exist_ok=True)
    fake_predictions(N, 3).save(ws / "predictions.npz")
    return ws


def check_frame_matches_npz(frame, npz, labels):
    preds = Predictions.load(npz)
    assert list(frame["Serial"]) == list(range(N))
    assert list(frame["predicted"]) == [CLASSES[k] for k in preds.pred]
    for k, name in enumerate(CLASSES):  # float32 written in full: exact round trip
        assert np.array_equal(frame[f"prob_{name}"].to_numpy(np.float32), preds.probs[:, k])
    assert np.array_equal(frame["confidence"].to_numpy(np.float32), preds.confidence)
    for name, score in preds.scores.items():
        assert np.array_equal(frame[name].to_numpy(np.float32), score)
    assert np.array_equal(frame[["x", "y"]].to_numpy(np.float32), preds.map2d)
    got = {int(s): lab for s, lab in zip(frame["Serial"], frame["label"]) if isinstance(lab, str) and lab}
    assert got == labels


def test_predictions_csv_matches_the_npz(toy, workspace, tmp_path, capsys):
    out = tmp_path / "predictions.csv"  # the current model by default
    assert main(["predictions", "export", str(out), "--dataset", toy]) == 0
    assert f"for {N} images" in capsys.readouterr().out
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["Serial", "label", "skipped", "predicted", "confidence", "prob_ant",
                                   "prob_bee", "prob_cow", "bald", "entropy",
                                   "least_confidence", "margin", "x", "y"]
    check_frame_matches_npz(frame, workspace / "predictions.npz", labels_of(toy))


def test_predictions_parquet_matches_the_npz(toy, workspace, tmp_path):
    pytest.importorskip("pyarrow")
    out = tmp_path / "predictions.parquet"  # the format follows the extension
    assert main(["predictions", "export", str(out), "--run", str(workspace), "--dataset", toy]) == 0
    frame = pd.read_parquet(out)
    assert frame["prob_ant"].dtype == np.float32
    check_frame_matches_npz(frame, workspace / "predictions.npz", labels_of(toy))


def test_parquet_without_pyarrow_is_one_sentence(toy, workspace, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if it were not installed
    out = tmp_path / "p.parquet"
    assert main(["predictions", "export", str(out), "--dataset", toy]) == 2
    assert "needs pyarrow" in capsys.readouterr().err
    assert not out.exists()


def test_predictions_export_errors(toy, tmp_path):
    out = str(tmp_path / "p.csv")
    rc, _, err = run_cli("predictions", "export", out, "--dataset", toy)
    assert "no trained model" in one_sentence(rc, err)
    empty = tmp_path / "empty-run"
    empty.mkdir()
    rc, _, err = run_cli("predictions", "export", out, "--run", str(empty), "--dataset", toy)
    assert "predictions.npz" in one_sentence(rc, err)
    Predictions.map_only(np.zeros((N, 2), np.float32)).save(empty / "predictions.npz")
    rc, _, err = run_cli("predictions", "export", out, "--run", str(empty), "--dataset", toy)
    assert "only the map" in one_sentence(rc, err)
    fake_predictions(N, 5).save(empty / "predictions.npz")  # another data set's classes
    rc, _, err = run_cli("predictions", "export", out, "--run", str(empty), "--dataset", toy)
    assert "train again" in one_sentence(rc, err)
    rc, _, err = run_cli("predictions", "export", str(tmp_path), "--run", str(empty), "--dataset", toy)
    assert "is a folder" in one_sentence(rc, err)
    assert not (tmp_path / "p.csv").exists()


def test_predictions_frame_without_a_model_is_refused():
    with pytest.raises(ExportError, match="not been trained"):
        predictions_frame(Predictions.map_only(np.zeros((4, 2), np.float32)), CLASSES)


def test_rank_json(toy, workspace, capsys):
    assert main(["rank", "--json", "-k", "5", "--strategy", "margin", "--dataset", toy]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["strategy"] == "margin" and out["labeled"] == 4 and len(out["items"]) == 5
    assert out["predictions"].endswith("predictions.npz")
    assert out["why"] == "images whose two likeliest classes are closest"
    preds = Predictions.load(workspace / "predictions.npz")
    labeled = set(labels_of(toy))
    for i, item in enumerate(out["items"], 1):
        assert set(item) == {"rank", "serial", "score", "predicted", "confidence"}
        assert item["rank"] == i and item["serial"] not in labeled
        assert item["score"] == pytest.approx(float(preds.scores["margin"][item["serial"]]))
        assert item["predicted"] == CLASSES[preds.pred[item["serial"]]]
    scores = [item["score"] for item in out["items"]]
    assert scores == sorted(scores, reverse=True)  # most uncertain first


# -- the labels file itself ----------------------------------------------------------------
def test_a_symlinked_labels_csv_stays_a_symlink(tmp_path):
    (tmp_path / "shared").mkdir()
    real = tmp_path / "shared" / "labels.csv"
    real.write_text("Serial,label\n0,ant\n")
    real.chmod(0o664)
    link = tmp_path / "labels.csv"
    link.symlink_to(real)
    store = LabelStore(link, N, CLASSES)
    store.set(3, 2)
    other = tmp_path / "other.csv"
    other.write_text("Serial,label\n5,bee\n")
    store.merge_file(other)  # the import path of issue 11
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "Serial,label\n0,ant\n3,cow\n5,bee\n"
    assert stat.S_IMODE(real.stat().st_mode) == 0o664
    assert sorted(p.name for p in (tmp_path / "shared").iterdir()) == ["labels.csv"]


def test_a_new_labels_csv_gets_the_umask_mode(tmp_path):
    old = os.umask(0o022)
    try:
        LabelStore(tmp_path / "new" / "labels.csv", N, CLASSES).set(1, 0)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new" / "labels.csv").stat().st_mode) == 0o644


def test_predictions_to_a_pipe_keep_the_status_line_out(toy, workspace):
    rc, out, err = run_cli("predictions", "export", "/dev/stdout", "--dataset", toy)
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("Serial,label,skipped,predicted") and len(lines) == N + 1
    assert "wrote the predictions" in err and "wrote" not in out


def test_map_of_a_map_only_snapshot(toy, tmp_path, capsys):
    ws = tmp_path / "ws-map"
    ws.mkdir()
    grid = np.stack([np.arange(N), -np.arange(N)], 1).astype(np.float32)
    Predictions.map_only(grid).save(ws / "predictions.npz")
    out = tmp_path / "map.csv"
    assert main(["map", "--run", str(ws), "--out", str(out), "--dataset", toy]) == 0
    assert "no model yet" in capsys.readouterr().out
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["Serial", "x", "y"]
    assert np.array_equal(frame[["x", "y"]].to_numpy(np.float32), grid)


def test_a_skipped_image_shows_in_the_exports_and_the_statistics(toy, workspace, tmp_path, capsys):
    from ssvae.labels import SKIP

    store = LabelStore.for_dataset(load_dataset(toy))
    store.update({5: SKIP})
    assert main(["labels", "export", str(tmp_path / "l.jsonl"), "--dataset", toy]) == 0
    lines = [json.loads(x) for x in (tmp_path / "l.jsonl").read_text().splitlines()]
    assert {"Serial": 5, "label": None, "skipped": True} in lines and len(lines) == 5
    assert main(["labels", "export", str(tmp_path / "l.csv"), "--dataset", toy]) == 0
    assert "5," not in (tmp_path / "l.csv").read_text()  # labels.csv holds real labels only
    assert main(["predictions", "export", str(tmp_path / "p.csv"), "--dataset", toy]) == 0
    frame = pd.read_csv(tmp_path / "p.csv")
    assert frame["skipped"].tolist() == [s == 5 for s in range(N)]
    capsys.readouterr()
    assert main(["labels", "stats", "--json", "--dataset", toy]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["labeled"] == 4 and stats["skipped"] == 1
    assert main(["labels", "stats", "--dataset", toy]) == 0
    assert "4 of 30 images labeled, 1 skipped" in capsys.readouterr().out
