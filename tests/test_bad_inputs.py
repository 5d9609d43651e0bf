"""The bad-input suite of issue 11: crafted data files, configs, class names, command-line
options and HTTP requests. Each case is refused with one sentence (no traceback, no newline),
changes nothing, and never allocates what the input claims."""
from __future__ import annotations

import io
import json
import os
import tracemalloc
import zipfile

import numpy as np
import pytest
from PIL import Image

from ssvae.cli import main
from ssvae.config import load_config
from ssvae.data import Dataset, load_dataset
from ssvae.data.dataset import class_name_problem
from ssvae.errors import ConfigError, DataError
from ssvae.labels import LabelStore, format_labels, parse_labels


def one_sentence(msg: str) -> None:
    assert "\n" not in msg.strip() and "Traceback" not in msg, msg
    assert msg.strip().endswith("."), msg
    assert len(msg) < 400, msg


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("SSVAE_DATA", str(root))
    monkeypatch.setenv("SSVAE_ARTIFACTS", str(tmp_path / "artifacts"))
    return root


def png(path, value=0, size=(8, 8), mode="L"):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, value).save(path)


def npz_with_header(path, key: str, shape: tuple, dtype="<u1", payload: bytes = b"") -> None:
    """An npz whose member claims ``shape`` but holds only ``payload`` (a crafted file)."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False,
                                               "shape": shape})
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{key}.npy", buf.getvalue() + payload)


# -- data files -------------------------------------------------------------------------------
def _big_label(path):
    np.savez(path, x=np.zeros((3, 8, 8), np.uint8), y=np.array([0, 1, 10**9]))


def _huge_uint64_label(path):
    np.savez(path, x=np.zeros((2, 8, 8), np.uint8), y=np.array([0, 2**64 - 1], np.uint64))


def _npy_renamed(path):
    with open(path, "wb") as fh:
        np.save(fh, np.zeros((3, 8, 8), np.uint8))


def _strings(path):
    np.savez(path, x=np.full((3, 8, 8), "a"))


def _zero_pixels(path):
    np.savez(path, x=np.zeros((3, 0, 0), np.uint8))


def _declares_huge(path):  # 10¹² bytes declared, none stored
    npz_with_header(path, "x", (10**4, 10**4, 10**4))


def _objects(path):  # an object array needs pickle, which is never loaded
    npz_with_header(path, "x", (3,), dtype="|O", payload=b"\x80\x04N.")


def _float_labels(path):
    np.savez(path, x=np.zeros((2, 8, 8), np.uint8), y=np.array([0.0, 1.5]))


def _names_2d(path):
    np.savez(path, x=np.zeros((2, 8, 8), np.uint8), class_names=np.array([["a", "b"]]))


def _names_repeat(path):
    np.savez(path, x=np.zeros((2, 8, 8), np.uint8), y=np.array([0, 1]),
             class_names=np.array(["a", "a"]))


def _names_spaces(path):
    np.savez(path, x=np.zeros((2, 8, 8), np.uint8), y=np.array([0, 1]),
             class_names=np.array(["a", " b"]))


def _names_empty(path):
    np.savez(path, x=np.zeros((2, 8, 8), np.uint8), y=np.array([0, 1]),
             class_names=np.array(["a", ""]))


def _names_not_utf8(path):
    np.savez(path, x=np.zeros((2, 8, 8), np.uint8), class_names=np.array([b"\xff", b"b"]))


def _names_control(path):
    np.savez(path, x=np.zeros((2, 8, 8), np.uint8), class_names=np.array(["a\x01b", "b"]))


NPZ_CASES = {
    "label 10^9": (_big_label, "class id 1000000000 in 'y' would make"),
    "label 2^64-1": (_huge_uint64_label, "would make"),
    ".npy renamed .npz": (_npy_renamed, "single .npy array"),
    "npz of strings": (_strings, "'x' holds <U1 values"),
    "0×0 images": (_zero_pixels, "images are 0×0 pixels"),
    "declares 1 TB": (_declares_huge, "would take"),
    "object array": (_objects, "holds Python objects"),
    "float labels": (_float_labels, "non-negative integer class ids"),
    "2-D class_names": (_names_2d, "must be a list of names"),
    "class names repeat": (_names_repeat, "appears twice"),
    "class name with a space": (_names_spaces, "starts or ends with white space"),
    "empty class name": (_names_empty, "a class name is empty"),
    "class names not UTF-8": (_names_not_utf8, "not UTF-8"),
    "control character in a class name": (_names_control, "control character"),
}


@pytest.mark.parametrize("make, message", NPZ_CASES.values(), ids=NPZ_CASES.keys())
def test_crafted_npz_is_refused_before_allocating(tmp_path, data_root, make, message):
    path = tmp_path / "crafted.npz"
    make(path)
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match=message) as info:
            load_dataset(f"npz:{path}")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    one_sentence(str(info.value))
    assert str(path) in str(info.value)
    assert peak < 20 * 2**20  # nothing sized by what the file claims
    assert not any(data_root.iterdir())  # nothing written


def test_npz_label_range_is_checked_through_the_cli(tmp_path, data_root, capsys):
    path = tmp_path / "big.npz"
    _big_label(path)
    assert main(["data", "info", "--dataset", f"npz:{path}"]) == 2
    err = capsys.readouterr().err
    one_sentence(err)


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_idx_header_declaring_a_terabyte_is_refused_before_reading(tmp_path, gz):
    import gzip
    import struct

    from ssvae.data.idx import read_idx

    data = struct.pack(">IIII", 0x0803, 10**4, 10**4, 10**4) + bytes(100)
    path = tmp_path / ("train-images-idx3-ubyte" + (".gz" if gz else ""))
    path.write_bytes(gzip.compress(data) if gz else data)
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match="would take") as info:
            read_idx(path, 3)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    one_sentence(str(info.value))
    assert peak < 20 * 2**20


def test_folder_with_a_non_utf8_file_name(tmp_path, data_root):
    folder = tmp_path / "imgs"
    png(folder / "a.png")
    png(folder / "b.png")
    try:
        os.rename(folder / "b.png", os.path.join(os.fsencode(folder), b"\xff\xfe.png"))
    except (OSError, UnicodeError):
        pytest.skip("this file system refuses non-UTF-8 names")
    with pytest.raises(DataError, match=r"the file name '\\xff\\xfe.png' is not valid UTF-8") as info:
        load_dataset(f"folder:{folder}", classes=("a", "b"))
    one_sentence(str(info.value))


@pytest.mark.parametrize("side", [100, 40], ids=["over twice the limit", "over the limit"])
def test_decompression_bomb_is_refused(tmp_path, data_root, monkeypatch, side):
    # a real bomb is 20000×20000; Pillow's limit is lowered instead of spending 400 MB on it
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    folder = tmp_path / "bomb"
    png(folder / "big.png", size=(side, side))
    with pytest.raises(DataError, match="too large to decode safely") as info:
        load_dataset(f"folder:{folder}", classes=("a", "b"))
    one_sentence(str(info.value))
    assert "big.png" in str(info.value)


def test_folder_class_dirs_that_differ_only_by_spaces(tmp_path, data_root):
    png(tmp_path / "pets" / "cat" / "0.png")
    png(tmp_path / "pets" / "cat " / "0.png")
    with pytest.raises(DataError, match="starts or ends with white space") as info:
        load_dataset(f"folder:{tmp_path / 'pets'}")
    one_sentence(str(info.value))


def test_folder_images_larger_than_memory_are_refused_before_allocating(tmp_path, data_root,
                                                                       monkeypatch):
    import ssvae.data.limits as limits

    monkeypatch.setattr(limits, "memory_budget", lambda: 100)
    png(tmp_path / "imgs" / "0.png")
    with pytest.raises(DataError, match="would take .* of memory") as info:
        load_dataset(f"folder:{tmp_path / 'imgs'}", image_size=(28, 28), classes=("a", "b"))
    one_sentence(str(info.value))
    with pytest.raises(DataError, match="each side must be 1 to"):
        load_dataset(f"folder:{tmp_path / 'imgs'}", image_size=(100000, 100000))


def test_zero_pixel_images_never_reach_the_page():
    with pytest.raises(DataError, match="0×0 pixels"):
        Dataset(name="empty", images=np.zeros((3, 0, 0, 1), np.uint8), class_names=("a",),
                source="test")


# -- class names: refused, or round-tripped through labels.csv -------------------------------
@pytest.mark.parametrize("names", [("a", "a"), (" a", "b"), ("a", ""), ("a", "b\t"), ("a", "\n")],
                         ids=["duplicate", "leading space", "empty", "trailing tab", "newline"])
def test_unusable_class_names_are_refused_everywhere(tmp_path, data_root, capsys, names):
    assert class_name_problem(names)
    with pytest.raises(DataError):
        Dataset(name="x", images=np.zeros((2, 4, 4, 1), np.uint8), class_names=names, source="t")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(json.dumps({"data": {"classes": list(names)}}))
    with pytest.raises(ConfigError, match="'data.classes' must give each class its own") as info:
        load_config(cfg)
    one_sentence(str(info.value))


def test_duplicate_classes_on_the_command_line(tmp_path, data_root, capsys):
    png(tmp_path / "flat" / "0.png")
    code = main(["data", "info", "--dataset", f"folder:{tmp_path / 'flat'}", "--classes", "a,a"])
    err = capsys.readouterr().err
    assert code == 2 and "appears twice" in err
    one_sentence(err)


@pytest.mark.parametrize("names", [("b", "a"), ("1", "0"), ("a,b", "c"), ('say "hi"', "x"),
                                   ("ü", "ß"), ("a b", "ab"), ("-1", "0"), ("x", "y", "z")])
def test_accepted_class_names_round_trip_through_labels_csv(tmp_path, names):
    assert class_name_problem(names) is None
    labels = {i: i % len(names) for i in range(2 * len(names))}
    text = format_labels(labels, names)
    assert parse_labels(text, 10, names) == labels
    store = LabelStore(tmp_path / "labels.csv", 10, names)
    store.set_many(labels)
    assert LabelStore(tmp_path / "labels.csv", 10, names).as_dict() == labels


def test_folder_with_classes_a_b_reads_back_class_0_as_0(tmp_path, data_root):
    png(tmp_path / "flat" / "0.png")
    png(tmp_path / "flat" / "1.png")
    ds = load_dataset(f"folder:{tmp_path / 'flat'}", classes=("a", "b"))
    store = LabelStore.for_dataset(ds)
    store.set(0, 0)
    store.set(1, 1)
    assert LabelStore.for_dataset(ds).as_dict() == {0: 0, 1: 1}


# -- configs ----------------------------------------------------------------------------------
CONFIG_CASES = {
    "image_size 100000": ("data: {image_size: [100000, 100000]}", "'data.image_size.0' must be less"),
    "image_size 0": ("data: {image_size: [0, 28]}", "'data.image_size.0' must be greater"),
    "hidden -5": ("model: {hidden: [-5]}", "'model.hidden.0' must be greater than or equal to 1"),
    "hidden 0": ("model: {hidden: [0]}", "'model.hidden.0' must be greater than or equal to 1"),
    "hidden true": ("model: {hidden: [true]}", "'model.hidden' must be a number, not true"),
    "conv_features none": ("model: {conv_features: []}", "'model.conv_features'"),
    "classifier_hidden huge": ("model: {classifier_hidden: [100000000]}",
                               "'model.classifier_hidden.0' must be less"),
    "eval_batch_size 1e11": ("train: {eval_batch_size: 1.0e+11}", "'train.eval_batch_size' must be less"),
    "eval_batch_size '1e11'": ("train: {eval_batch_size: 1e11}", "'train.eval_batch_size' must be a valid"),
    "epochs true": ("train: {epochs: true}", "'train.epochs' must be a number, not true or false"),
    "learning_rate false": ("train: {learning_rate: false}", "'train.learning_rate' must be a number"),
    "k true": ("query: {k: true}", "'query.k' must be a number"),
    "unlabeled_weight inf": ("train: {unlabeled_weight: .inf}", "'train.unlabeled_weight' must be a finite"),
    "kl_weight nan": ("train: {kl_weight: .nan}", "'train.kl_weight' must be a finite"),
    "seed 2^70": ("train: {seed: 1180591620717411303424}", "'train.seed' must be less"),
    "labels empty": ("data: {labels: ''}", "'data.labels' must be the path of a .csv file"),
    "10 MB value": ("data: {dataset: [" + "1," * 100_000 + "1]}", "'data.dataset' must be a valid string"),
}


@pytest.mark.parametrize("text, message", CONFIG_CASES.values(), ids=CONFIG_CASES.keys())
def test_bad_config_values(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path)
    one_sentence(str(info.value))


def test_bad_config_values_as_overrides():
    for key, value, message in [("train.eval_batch_size", 1e11, "must be less"),
                                ("train.epochs", True, "not true or false"),
                                ("data.image_size", [100000, 100000], "must be less")]:
        with pytest.raises(ConfigError, match=message) as info:
            load_config("quick", {key: value})
        one_sentence(str(info.value))
        assert "with the command-line options" in str(info.value)


def test_bools_stay_bools():
    cfg = load_config("quick", {"data.color": True, "query.diverse": True})
    assert cfg.data.color is True and cfg.query.diverse is True


@pytest.mark.parametrize("where", ["under a file", "a folder"])
def test_labels_path_that_cannot_be_a_file(tmp_path, data_root, capsys, where):
    (tmp_path / "afile").write_text("x")
    labels = tmp_path / "afile" / "labels.csv" if where == "under a file" else tmp_path
    (tmp_path / "l.csv").write_text("Serial,label\n0,0\n")
    code = main(["labels", "import", str(tmp_path / "l.csv"), "--labels", str(labels)])
    err = capsys.readouterr().err
    assert code == 2 and "'data.labels'" in err
    one_sentence(err)
    assert (tmp_path / "afile").read_text() == "x"


# -- the page's HTTP endpoints ----------------------------------------------------------------
@pytest.fixture
def app(tmp_path):  # a tab on it is the shared ``page`` fixture
    from dash_fixtures import synthetic_dataset

    from dashboard.app import create_app

    ds = synthetic_dataset(n=40, root=tmp_path)
    return create_app(ds, tmp_path / "labels.csv", tmp_path / "ws")


def _snapshot(page):
    state = page.app.ssvae.state
    log = state.workspace.command_log
    return (state.labels.as_dict(), log.read_bytes() if log.exists() else b"")


@pytest.mark.parametrize("key", ["²", "٣", "x" * 10_000_000, ["1"], {"k": 1}, None, 7],
                         ids=["superscript two", "arabic-indic three", "10 MB", "list", "dict",
                              "null", "number"])
def test_bad_keys_answer_one_short_sentence(page, key):
    before = _snapshot(page)
    dep = page.find("key-event.data")
    call = page.post(dep, "key-event.data", {"key-event.data": {"key": key}},
                     {"shown-serial.data": 3})
    assert call.status == 200 and call.nbytes < 2000
    result = call.value("result", "data")
    assert result["ok"] is False
    one_sentence(result["message"])
    assert _snapshot(page) == before


def test_digit_keys_still_label(page):
    dep = page.find("key-event.data")
    call = page.post(dep, "key-event.data", {"key-event.data": {"key": "4"}}, {"shown-serial.data": 3})
    assert call.value("result", "data")["ok"] is True
    assert page.app.ssvae.state.labels.get(3) == 4


def test_long_refusals_are_cut(page):
    dep = page.find("key-event.data")
    call = page.post(dep, "key-event.data", {"key-event.data": {"key": "5"}},
                     {"shown-serial.data": "s" * 1_000_000})
    message = call.value("result", "data")["message"]
    assert call.nbytes < 2000 and len(message) <= 300


BODIES = {
    "{}": "{}", "list": "[]", "null": "null", "number": "1", "string": '"x"',
    "not JSON": "not json", "output a number": '{"output": 5}',
    "unknown output": '{"output": "nope.data", "inputs": [], "outputs": {}}',
    "client-side callback": None,  # filled in below: a callback with no server function
    "inputs a number": "INPUTS_NUMBER", "inputs too few": "INPUTS_FEW",
    "outputs missing": "OUTPUTS_MISSING", "changedPropIds a dict": "CHANGED_DICT",
}


def _body(page, kind):
    dep = page.find("key-event.data")
    good = {"output": dep["output"], "outputs": {"id": "result", "property": "data"},
            "inputs": [{"id": "key-event", "property": "data", "value": {"key": "1"}}],
            "state": [{"id": "shown-serial", "property": "data", "value": 2},
                      {"id": "session-id", "property": "data", "value": "tab-1"}],
            "changedPropIds": ["key-event.data"]}
    if kind == "GOOD":
        return json.dumps(good)
    if kind == "INPUTS_NUMBER":
        return json.dumps({**good, "inputs": 5})
    if kind == "INPUTS_FEW":
        return json.dumps({**good, "inputs": []})
    if kind == "OUTPUTS_MISSING":
        return json.dumps({k: v for k, v in good.items() if k != "outputs"})
    if kind == "CHANGED_DICT":
        return json.dumps({**good, "changedPropIds": {"a": 1}})
    if kind is None:
        client_side = next(k for k, v in page.app.callback_map.items() if "callback" not in v)
        return json.dumps({**good, "output": client_side})
    return kind


@pytest.mark.parametrize("kind", BODIES.values(), ids=BODIES.keys())
def test_malformed_callback_requests_get_400_and_one_sentence(page, kind):
    before = _snapshot(page)
    resp = page.client.post("/_dash-update-component", data=_body(page, kind),
                            content_type="application/json")
    assert resp.status_code == 400
    one_sentence(resp.get_data(as_text=True))
    assert _snapshot(page) == before


def test_the_well_formed_request_the_bad_ones_are_cut_from_works(page):
    resp = page.client.post("/_dash-update-component", data=_body(page, "GOOD"),
                            content_type="application/json")
    assert resp.status_code == 200
    assert page.app.ssvae.state.labels.get(2) == 1


def test_oversized_body_is_refused_in_one_sentence(page, monkeypatch):
    page.app.server.config["MAX_CONTENT_LENGTH"] = 1000
    resp = page.client.post("/_dash-update-component", data="x" * 5000,
                            content_type="application/json")
    assert resp.status_code == 413
    one_sentence(resp.get_data(as_text=True))


def test_an_error_inside_the_server_answers_one_sentence(tmp_path):
    from dash_fixtures import synthetic_dataset

    from dashboard.app import create_app

    def boom():
        raise RuntimeError("x" * 10_000)

    app = create_app(synthetic_dataset(n=20, root=tmp_path), tmp_path / "l.csv", tmp_path / "ws")
    app.server.add_url_rule("/boom", "boom", boom)
    resp = app.server.test_client().get("/boom")
    assert resp.status_code == 500
    text = resp.get_data(as_text=True)
    one_sentence(text)
    assert "RuntimeError" in text and "xxx" not in text


@pytest.mark.parametrize("host, ok", [("localhost:8050", True), ("127.0.0.1:8050", True),
                                      ("[::1]:8050", True), ("LOCALHOST", True),
                                      ("evil.example", False), ("127.0.0.1.nip.io:8050", False),
                                      ("", False)])
def test_foreign_host_header_is_refused(page, host, ok):
    resp = page.client.get("/", headers={"Host": host})
    assert (resp.status_code == 200) is ok
    if not ok:
        assert resp.status_code == 403
        one_sentence(resp.get_data(as_text=True))
    before = _snapshot(page)
    resp = page.client.post("/_dash-update-component", data=_body(page, "GOOD"),
                            content_type="application/json", headers={"Host": host})
    assert (resp.status_code == 200) is ok
    if not ok:
        assert _snapshot(page) == before


def test_allowed_hosts_follow_the_bound_address():
    from dashboard.app import allowed_hosts_for, exposure_warnings, is_loopback

    assert allowed_hosts_for("0.0.0.0") is None and allowed_hosts_for("::") is None
    assert "lab.example" in allowed_hosts_for("lab.example")
    assert "localhost" in allowed_hosts_for("127.0.0.1")
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.5", "lab.example"))
    assert exposure_warnings("127.0.0.1", False) == []
    for warning in exposure_warnings("0.0.0.0", True):
        one_sentence(warning)


# -- `ssvae dashboard --host/--debug` ---------------------------------------------------------
@pytest.mark.parametrize("args, warnings", [([], []), (["--host", "0.0.0.0"], ["--host 0.0.0.0"]),
                                            (["--debug"], ["--debug"]),
                                            (["--host", "192.168.1.5", "--debug"],
                                             ["--host 192.168.1.5", "--debug"])])
def test_dashboard_warns_about_exposure(tmp_path, monkeypatch, capsys, args, warnings):
    import dash

    monkeypatch.setenv("SSVAE_ARTIFACTS", str(tmp_path / "artifacts"))
    seen = {}
    monkeypatch.setattr(dash.Dash, "run", lambda self, **kw: seen.update(app=self, **kw))
    code = main(["dashboard", "--labels", str(tmp_path / "labels.csv"), "--no-training",
                 "--no-browser", *args])
    assert code == 0
    err_lines = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(err_lines) == len(warnings)
    for line, word in zip(err_lines, warnings):
        assert word in line
        one_sentence(line)
    client = seen["app"].server.test_client()
    foreign = client.get("/", headers={"Host": "evil.example"}).status_code
    assert foreign == (200 if "0.0.0.0" in args else 403)
