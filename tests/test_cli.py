"""The ssvae console script: help everywhere, data info, labels import/export/stats, and
one-line errors without a traceback."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from ssvae.cli import build_parser, main


@pytest.fixture
def toy(tmp_path, monkeypatch):
    monkeypatch.setenv("SSVAE_DATA", str(tmp_path / "data"))
    path = tmp_path / "toy.npz"
    np.savez(path, x=np.zeros((30, 6, 6), dtype=np.uint8), y=np.arange(30) % 3,
             class_names=np.array(["ant", "bee", "cow"]))
    return f"npz:{path}"


def _subcommands(parser):
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            for name, sub in action.choices.items():
                yield [name]
                for rest in _subcommands(sub):
                    yield [name, *rest]


def test_every_command_has_help(capsys):
    parser = build_parser()
    commands = list(_subcommands(parser))
    assert ["data", "info"] in commands and ["labels", "import"] in commands
    for cmd in commands:
        with pytest.raises(SystemExit) as info:
            main([*cmd, "--help"])
        assert info.value.code == 0
        assert "usage: ssvae" in capsys.readouterr().out


def test_data_info_on_bundled_mnist(capsys, monkeypatch):
    monkeypatch.delenv("SSVAE_DATA", raising=False)
    assert main(["data", "info", "--labels", "/nonexistent/labels.csv"]) == 0
    out = capsys.readouterr().out
    assert "4000 to label, 28×28×1" in out and "test split   1000" in out
    assert "mnist_5k.npz" in out


def test_labels_import_export_stats(toy, tmp_path, capsys):
    other = tmp_path / "other.csv"
    other.write_text("Serial,label\n0,ant\n4,cow\n")
    assert main(["labels", "import", str(other), "--dataset", toy]) == 0
    assert "2 new, 0 already identical, 0 conflicts" in capsys.readouterr().out
    other.write_text("Serial,label\n4,bee\n")
    assert main(["labels", "import", str(other), "--dataset", toy, "--prefer", "theirs"]) == 0
    out = capsys.readouterr().out
    assert "conflict Serial 4: current cow, imported bee" in out
    assert main(["labels", "export", str(tmp_path / "out.csv"), "--dataset", toy]) == 0
    assert (tmp_path / "out.csv").read_text() == "Serial,label\n0,ant\n4,bee\n"
    assert main(["labels", "stats", "--dataset", toy]) == 0
    out = capsys.readouterr().out
    assert "2 of 30 images labeled" in out and "bee         1" in out


def test_import_dry_run_writes_nothing(toy, tmp_path, capsys):
    other = tmp_path / "other.csv"
    other.write_text("Serial,label\n1,bee\n")
    assert main(["labels", "import", str(other), "--dataset", toy, "--dry-run"]) == 0
    assert "would import" in capsys.readouterr().out
    assert not (tmp_path / "data" / "toy" / "labels.csv").exists()


def test_expected_errors_are_one_line_without_traceback(toy, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("Serial,label\n0,ant\n99,bee\n")
    for args in (["labels", "import", str(bad), "--dataset", toy],
                 ["data", "info", "--dataset", "npz:/does/not/exist.npz"],
                 ["data", "info", "--config", str(tmp_path / "missing.yaml")]):
        proc = subprocess.run([sys.executable, "-m", "ssvae", *args], capture_output=True,
                              text=True)
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("ssvae: error: "), proc.stderr
        assert "Traceback" not in proc.stderr


def test_cli_help_does_not_import_jax():
    code = "import sys; from ssvae.cli import build_parser; build_parser(); print('jax' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
