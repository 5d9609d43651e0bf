"""Per-tab sessions, skip, changes on disk and notices, through the page's callbacks over HTTP
(two HeadlessPage objects are two browser tabs with their own session ids)."""
from __future__ import annotations

import json

import pytest

from dash_fixtures import synthetic_dataset, synthetic_predictions, tab
from dashboard.app import create_app
from dashboard.headless import HeadlessPage
from dashboard.state import Workspace
from ssvae.labels import LabelStore


@pytest.fixture
def ds(tmp_path):
    return synthetic_dataset(n=150, root=tmp_path / "data")


def make_app(tmp_path, ds):
    ws = tmp_path / "ws"
    ws.mkdir(exist_ok=True)
    if not Workspace(ws).predictions.exists():  # the selected model's
        synthetic_predictions(ds).save(Workspace(ws).predictions)
    return create_app(ds, tmp_path / "labels.csv", ws)


def click(page, serial):
    return page.trigger("map.clickData", {"points": [{"curveNumber": 0, "pointIndex": serial}]})


def key(page, name):
    return page.trigger("key-event.data", {"key": name, "ts": 1})


def rows(app):
    path = app.ssvae.state.labels.path
    return path.read_text().splitlines()[1:] if path.exists() else []


def test_two_tabs_keep_their_own_selection_and_undo(tmp_path, ds):
    app = make_app(tmp_path, ds)
    a, b = tab(app), tab(app)
    click(a, 10)
    click(b, 20)  # B's click does not change the image A is about to label
    assert a.stores["shown-serial"] == 10 and b.stores["shown-serial"] == 20
    assert key(a, "1").result["ok"]
    assert key(b, "2").result["ok"]
    assert sorted(rows(app)) == ["10,1", "20,2"]
    res = key(a, "undo").result  # A's Ctrl+Z undoes A's label only
    assert res["ok"] and "Serial 10" in res["message"]
    assert rows(app) == ["20,2"]
    assert not key(a, "undo").result["ok"]
    assert key(b, "undo").result["ok"] and rows(app) == []
    # the undo buttons follow each tab's own stacks
    a.tick()
    assert a.stores["seen-history"] is not None


def test_skip_key_and_button_set_the_image_aside_and_show_in_the_statistics(tmp_path, ds):
    app = make_app(tmp_path, ds)
    page = tab(app)
    first = page.stores["shown-serial"]
    action = key(page, "skip")
    assert action.result["ok"] and f"Set Serial {first} aside" in action.result["message"]
    assert page.stores["shown-serial"] != first  # moved on
    stats = next(c for c in action.calls if "stats-summary" in c.output)
    assert "1 skipped" in stats.value("stats-summary", "children")
    queue = next(c for c in action.calls if "queue.children" in c.output)
    assert f'"data-serial": "{first}"' not in json.dumps(queue.value("queue", "children"))
    second = page.stores["shown-serial"]
    dep = page.find("skip-btn.n_clicks")
    call = page.post(dep, "skip-btn.n_clicks", {"skip-btn.n_clicks": 1}, page._states(dep))
    assert call.value("result", "data")["ok"]
    assert app.ssvae.state.labels.skipped() == sorted([first, second])
    assert rows(app) == []  # labels.csv holds only real labels
    assert key(page, "undo").result["ok"] and app.ssvae.state.labels.skipped() == [first]


def test_a_cli_import_shows_in_the_page_within_its_next_tick(tmp_path, ds):
    app = make_app(tmp_path, ds)
    page = tab(app)
    click(page, 3)
    key(page, "4")
    (tmp_path / "in.csv").write_text("Serial,label\n7,7\n8,8\n")
    LabelStore(tmp_path / "labels.csv", ds.size, ds.class_names).merge_file(tmp_path / "in.csv")
    action = page.tick()
    stats = next(c for c in action.calls if "stats-summary" in c.output)
    assert stats.value("stats-summary", "children").startswith("3 of 150 labeled")
    click(page, 9)
    key(page, "9")
    assert sorted(rows(app)) == ["3,4", "7,7", "8,8", "9,9"]


def test_skipped_log_lines_are_told_once_per_tab(tmp_path, ds):
    app = make_app(tmp_path, ds)
    page = tab(app)
    click(page, 3)
    key(page, "4")
    with open(tmp_path / "ws" / "commands.jsonl", "a") as fh:
        fh.write('[1,2]\n{"seq":"x"}\n"a bare string"\n')
    app2 = make_app(tmp_path, ds)  # the next start: it starts
    page2 = HeadlessPage(app2)
    page2.stores["session-id"] = page.stores["session-id"]  # the same tab, reloaded
    page2.load()
    result = page2.tick().result
    assert result["warning"] and result["message"].startswith("3 lines of the command log")
    assert page2.tick().result is None or not page2.tick().result.get("message")
    assert key(page2, "undo").result["ok"] and rows(app2) == []


@pytest.mark.parametrize("key_name", ["S", "skip", "x" * 10_000_000])
def test_unknown_or_long_keys_are_one_short_sentence(tmp_path, ds, key_name):
    app = make_app(tmp_path, ds)
    page = tab(app)
    res = key(page, key_name).result
    if key_name == "skip":
        assert res["ok"]
    else:
        assert not res["ok"] and len(res["message"]) < 200 and "does nothing" in res["message"]
