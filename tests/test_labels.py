"""labels.csv: round trips, every malformed file named, import/merge/export, counts."""
from __future__ import annotations

import os

import numpy as np
import pytest

from ssvae.errors import LabelsError
from ssvae.labels import LabelStore, read_labels

DIGITS = tuple("0123456789")
FASHION = ("T-shirt/top", "Trouser", "Pull,over")  # a comma in a name must survive quoting


def test_round_trip_keeps_every_label_and_sorted_rows(tmp_path):
    path = tmp_path / "labels.csv"
    store = LabelStore(path, 100, DIGITS)
    store.set(42, 7)
    store.set_many({3: 1, 99: 0, 42: 9})
    store.remove(99)
    assert path.read_text() == "Serial,label\n3,1\n42,9\n"
    again = LabelStore(path, 100, DIGITS)
    assert again.as_dict() == {3: 1, 42: 9}
    assert again.counts() == [0, 1, 0, 0, 0, 0, 0, 0, 0, 1]
    arr = again.as_array()
    assert arr.shape == (100,) and arr[3] == 1 and arr[42] == 9 and (arr == -1).sum() == 98
    assert again.fingerprint() == store.fingerprint()
    store.set(5, 5)
    assert again.fingerprint() != store.fingerprint()


def test_class_names_with_commas_round_trip(tmp_path):
    store = LabelStore(tmp_path / "l.csv", 10, FASHION)
    store.set_many({0: 2, 1: 0})
    assert LabelStore(tmp_path / "l.csv", 10, FASHION).as_dict() == {0: 2, 1: 0}
    assert '"Pull,over"' in (tmp_path / "l.csv").read_text()


def test_index_labels_accepted_only_when_unambiguous(tmp_path):
    path = tmp_path / "l.csv"
    path.write_text("Serial,label\n0,1\n1,Trouser\n")
    assert read_labels(path, 5, FASHION) == {0: 1, 1: 1}


def test_bom_blank_lines_and_missing_file(tmp_path):
    path = tmp_path / "l.csv"
    path.write_bytes("\ufeffSerial,label\r\n1,2\r\n\r\n4,4\r\n".encode())
    assert read_labels(path, 5, DIGITS) == {1: 2, 4: 4}
    with pytest.raises(LabelsError, match="file not found"):
        read_labels(tmp_path / "absent.csv", 5, DIGITS)


MALFORMED = {
    "empty": ("", "the file is empty"),
    "wrong_header": ("serial,class\n1,2\n", "line 1: the header is 'serial,class'"),
    "extra_column": ("Serial,label\n1,2\n3,4,5\n", "line 3: expected 2 fields"),
    "one_column": ("Serial,label\n7\n", r"line 2: expected 2 fields \(Serial,label\) but found 1"),
    "serial_not_int": ("Serial,label\nabc,1\n", "line 2: Serial 'abc' is not an integer"),
    "serial_float": ("Serial,label\n1.0,1\n", "line 2: Serial '1.0' is not an integer"),
    "serial_negative": ("Serial,label\n-1,1\n", "line 2: Serial -1 is outside the data set"),
    "serial_too_big": ("Serial,label\n0,0\n10,1\n", "line 3: Serial 10 is outside the data set \\(0–9\\)"),
    "empty_label": ("Serial,label\n2,\n", "line 2: the label of Serial 2 is empty"),
    "unknown_label": ("Serial,label\n2,cat\n", "line 2: label 'cat' is not one of the classes"),
    "duplicate": ("Serial,label\n2,1\n5,1\n2,3\n", "line 4: Serial 2 appears again \\(first on line 2\\)"),
    "bad_quoting": ('Serial,label\n2,"3\n', "cannot be parsed as CSV"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_files_each_give_their_own_error(tmp_path, name):
    text, message = MALFORMED[name]
    path = tmp_path / f"{name}.csv"
    path.write_text(text)
    with pytest.raises(LabelsError, match=message) as info:
        read_labels(path, 10, DIGITS)
    assert str(path) in str(info.value)


def test_binary_and_non_utf8_files(tmp_path):
    (tmp_path / "bin.csv").write_bytes(b"Serial,label\n\x00\x01\x02")
    with pytest.raises(LabelsError, match="binary file"):
        read_labels(tmp_path / "bin.csv", 10, DIGITS)
    (tmp_path / "latin.csv").write_bytes("Serial,label\n1,caf\xe9\n".encode("latin-1"))
    with pytest.raises(LabelsError, match="not UTF-8"):
        read_labels(tmp_path / "latin.csv", 10, DIGITS)


def test_several_problems_are_counted(tmp_path):
    path = tmp_path / "l.csv"
    path.write_text("Serial,label\nx,1\n99,1\n1,z\n")
    with pytest.raises(LabelsError, match=r"line 2: .* \(and 2 more problems\)\."):
        read_labels(path, 10, DIGITS)


def test_a_malformed_file_is_never_overwritten(tmp_path):
    path = tmp_path / "l.csv"
    path.write_text("Serial,label\n1,1\n1,2\n")
    before = path.read_bytes()
    with pytest.raises(LabelsError):
        LabelStore(path, 10, DIGITS)
    assert path.read_bytes() == before


@pytest.mark.parametrize("serial, label, message", [
    (10, 1, "outside the data set"), (-3, 1, "outside the data set"), ("4", 1, "not an integer"),
    (True, 1, "not an integer"), (1, 10, "not a class index"), (1, "3", "not a class index"),
    (1.0, 2, "not an integer"),
])
def test_forged_writes_are_refused_and_change_nothing(tmp_path, serial, label, message):
    store = LabelStore(tmp_path / "l.csv", 10, DIGITS)
    store.set(0, 0)
    before = (tmp_path / "l.csv").read_bytes()
    with pytest.raises(LabelsError, match=message):
        store.set_many({0: 5, serial: label})
    assert store.as_dict() == {0: 0} and (tmp_path / "l.csv").read_bytes() == before


def test_import_merge_reports_conflicts_and_respects_preference(tmp_path):
    store = LabelStore(tmp_path / "ours.csv", 20, DIGITS)
    store.set_many({1: 1, 2: 2, 3: 3})
    theirs = tmp_path / "theirs.csv"
    theirs.write_text("Serial,label\n1,1\n2,7\n4,4\n5,5\n")
    merged, report = store.plan_merge(theirs)
    assert store.as_dict() == {1: 1, 2: 2, 3: 3}  # a plan writes nothing
    assert (report.added, report.unchanged, report.conflicts) == (2, 1, [(2, "2", "7")])
    report = store.merge_file(theirs, prefer="ours")
    assert store.as_dict() == {1: 1, 2: 2, 3: 3, 4: 4, 5: 5}
    assert "1 conflict (kept the existing labels)" in report.summary()
    report = store.merge_file(theirs, prefer="theirs")
    assert store.get(2) == 7 and report.kept == "theirs"
    assert LabelStore(tmp_path / "ours.csv", 20, DIGITS).get(2) == 7


def test_bad_import_changes_nothing(tmp_path):
    store = LabelStore(tmp_path / "ours.csv", 20, DIGITS)
    store.set(1, 1)
    (tmp_path / "bad.csv").write_text("Serial,label\n1,1\n50,2\n")
    with pytest.raises(LabelsError, match="line 3: Serial 50 is outside"):
        store.merge_file(tmp_path / "bad.csv")
    assert store.as_dict() == {1: 1}


def test_export_writes_an_identical_copy(tmp_path):
    store = LabelStore(tmp_path / "l.csv", 20, DIGITS)
    store.set_many({4: 4, 0: 9})
    out = store.export(tmp_path / "sub" / "copy.csv")
    assert out.read_text() == (tmp_path / "l.csv").read_text() == store.to_csv()


def test_writes_leave_no_temporary_files(tmp_path):
    store = LabelStore(tmp_path / "l.csv", 1000, DIGITS)
    for i in range(50):
        store.set(i, i % 10)
    assert sorted(os.listdir(tmp_path)) == [".l.csv.lock", "l.csv"]  # the writers' lock stays
    assert len(read_labels(tmp_path / "l.csv", 1000, DIGITS)) == 50


def test_no_class_names_is_a_clear_error(tmp_path):
    with pytest.raises(LabelsError, match="no class names"):
        LabelStore(tmp_path / "l.csv", 10, ())


def test_as_array_matches_dict(tmp_path):
    store = LabelStore(tmp_path / "l.csv", 50, DIGITS)
    rng = np.random.default_rng(0)
    labels = {int(s): int(l) for s, l in zip(rng.choice(50, 20, replace=False), rng.integers(0, 10, 20))}
    store.set_many(labels)
    arr = store.as_array()
    assert {i: int(v) for i, v in enumerate(arr) if v >= 0} == labels
