"""`ssvae dashboard`: arguments, start-up on the bundled MNIST, and no JAX in the web process."""
from __future__ import annotations

import pytest

from ssvae.cli import main


def test_dashboard_starts_on_bundled_mnist_without_serving(tmp_path, monkeypatch, capsys):
    import dash

    import dashboard.cli as cli_dashboard

    monkeypatch.setenv("SSVAE_ARTIFACTS", str(tmp_path / "artifacts"))
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    opened = []
    monkeypatch.setattr(cli_dashboard, "open_browser_later", opened.append)
    seen = {}

    def fake_run(self, host, port, debug, use_reloader):
        seen.update(host=host, port=port, app=self)

    monkeypatch.setattr(dash.Dash, "run", fake_run)
    code = main(["dashboard", "--labels", str(tmp_path / "labels.csv"), "--port", "8123"])
    assert code == 0
    assert seen["host"] == "127.0.0.1" and seen["port"] == 8123
    out = capsys.readouterr().out
    assert "mnist, 4000 images" in out and "http://127.0.0.1:8123/" in out
    assert "a first model is training in the background" in out
    assert "stopping the training worker" in out  # the app took its worker down on the way out
    app = seen["app"]
    assert app.ssvae.state.worker is not None and not app.ssvae.state.worker.worker_alive()
    assert (tmp_path / "artifacts" / "workspace" / "mnist" / "store").is_dir()
    assert opened == []  # no display: no browser
    monkeypatch.setenv("DISPLAY", ":0")
    main(["dashboard", "--labels", str(tmp_path / "labels.csv"), "--port", "8124", "--no-training"])
    assert opened == ["http://127.0.0.1:8124/"]
    assert seen["app"].ssvae.state.worker is None
    assert "appear after a training" in capsys.readouterr().out
    main(["dashboard", "--labels", str(tmp_path / "labels.csv"), "--no-browser", "--no-training"])
    assert len(opened) == 1


@pytest.mark.parametrize("args, words", [(["--port", "0"], "not a port number"),
                                          (["--dataset", "nope"], "unknown data set")])
def test_dashboard_bad_arguments_say_why(tmp_path, monkeypatch, capsys, args, words):
    monkeypatch.setenv("SSVAE_ARTIFACTS", str(tmp_path / "artifacts"))
    assert main(["dashboard", "--labels", str(tmp_path / "l.csv"), *args]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
