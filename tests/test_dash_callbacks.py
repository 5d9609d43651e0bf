"""The page's callbacks over HTTP: flows of a tab, two tabs, and forged payloads."""
from __future__ import annotations

import base64
import json

import pytest

from dash_fixtures import synthetic_dataset, synthetic_predictions
from dashboard.app import create_app
from dashboard.headless import HeadlessPage


@pytest.fixture
def ds(tmp_path):
    return synthetic_dataset(n=150, root=tmp_path / "data")


@pytest.fixture
def app(tmp_path, ds, ws):
    return create_app(ds, tmp_path / "labels.csv", ws)


def labels_csv(app):
    path = app.ssvae.state.labels.path
    return path.read_text() if path.exists() else ""


def test_web_process_never_imports_jax():
    import subprocess
    import sys

    code = ("import sys; sys.path.insert(0, 'tests');"
            "from dash_fixtures import synthetic_dataset;"
            "import tempfile, pathlib; t = pathlib.Path(tempfile.mkdtemp());"
            "from dashboard.app import create_app; import ssvae.cli;"
            "create_app(synthetic_dataset(n=20, root=t), t / 'l.csv', t / 'ws');"
            "print('jax' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_first_load_draws_everything_with_typed_arrays(app):
    page = HeadlessPage(app)
    calls = {c.output.split(".")[2]: c for c in page.load().calls}
    fig = calls["map"].value("map", "figure")
    main = fig["data"][0]
    assert main["type"] == "scattergl"
    assert set(main["x"]) == {"dtype", "bdata"} and main["x"]["dtype"] == "u2"
    assert page.stores["shown-serial"] == app.ssvae.state.selected
    assert calls["stats-summary"].value("stats-summary", "children").startswith("0 of 150")


def test_key_labels_shown_image_and_updates_stats(app, page):
    shown = page.stores["shown-serial"]
    action = page.trigger("key-event.data", {"key": "3"})
    assert action.result["ok"], action.result
    assert f"\n{shown},3\n" in labels_csv(app)
    stats = next(c for c in action.calls if "stats-summary" in c.output)
    assert stats.value("stats-summary", "children").startswith("1 of 150")
    # the map got a Patch of the labeled overlay and the ring, not the whole figure again
    m = next(c for c in action.calls if "map.figure" in c.output)
    patch = m.value("map", "figure")
    assert patch["__dash_patch_update"]
    locations = [op["location"] for op in patch["operations"]]
    assert ["data", 1] in locations and not any(loc[:2] == ["data", 0] for loc in locations)
    # auto-advance: the tab now shows the next image in the queue
    assert page.stores["shown-serial"] != shown
    undo = page.trigger("key-event.data", {"key": "undo"})
    assert undo["ok"] if isinstance(undo, dict) else undo.result["ok"]
    assert f"{shown},3" not in labels_csv(app)
    assert page.stores["shown-serial"] == shown


def test_every_key(app, page):
    s0 = page.stores["shown-serial"]
    assert page.trigger("key-event.data", {"key": "next"}).result["ok"]
    s1 = page.stores["shown-serial"]
    assert s1 != s0
    assert page.trigger("key-event.data", {"key": "prev"}).result["ok"]
    assert page.stores["shown-serial"] == s0
    page.trigger("key-event.data", {"key": "5"})
    page.trigger("map.clickData", {"points": [{"curveNumber": 0, "pointIndex": s0}]})
    assert page.stores["shown-serial"] == s0
    assert page.trigger("key-event.data", {"key": "remove"}).result["ok"]
    assert f"{s0}," not in labels_csv(app)
    assert page.trigger("key-event.data", {"key": "undo"}).result["ok"]
    assert f"{s0},5" in labels_csv(app)
    assert page.trigger("key-event.data", {"key": "redo"}).result["ok"]
    assert f"{s0},5" not in labels_csv(app)


def test_select_and_label_responses_are_small(app, page):
    action = page.trigger("map.clickData", {"points": [{"curveNumber": 0, "pointIndex": 17}]})
    assert page.stores["shown-serial"] == 17
    assert action.nbytes < 150_000
    action = page.trigger("key-event.data", {"key": "1"})
    assert action.nbytes < 150_000


def test_box_selection_is_labeled_in_one_go(app, page):
    points = [{"curveNumber": 0, "pointIndex": i} for i in range(20, 30)]
    a = page.trigger("map.selectedData", {"points": points, "range": {"x": [0, 1], "y": [0, 1]}})
    assert a.result["ok"] and "10 images selected" in a.result["message"]
    bar = next(c for c in a.calls if "batch-bar" in c.output)
    assert bar.value("batch-bar", "className") == "batch-bar"
    trigger = '{"index":4,"type":"batch-label"}.n_clicks'
    dep = page.find('{"index":["ALL"],"type":"batch-label"}.n_clicks')
    call = page.post(dep, trigger, {trigger: 1})
    result = call.value("result", "data")
    assert result["ok"] and "Labeled 10 images" in result["message"]
    rows = labels_csv(app).splitlines()[1:]
    assert rows == [f"{i},4" for i in range(20, 30)]


def test_two_tabs_see_each_others_labels_after_a_tick(app):
    a, b = HeadlessPage(app), HeadlessPage(app)
    a.load()
    b.load()
    b.tick()  # the first tick tells a fresh tab the server's counters
    assert [c.status for c in b.tick().calls] == [204]  # nothing new: no traffic beyond the tick
    a.trigger("map.clickData", {"points": [{"curveNumber": 0, "pointIndex": 40}]})
    a.trigger("key-event.data", {"key": "8"})
    tick = b.tick()
    stats = next(c for c in tick.calls if "stats-summary" in c.output)
    assert stats.value("stats-summary", "children").startswith("1 of 150")
    m = next(c for c in tick.calls if "map.figure" in c.output)
    assert m.value("map", "figure")["__dash_patch_update"]


def test_timers_never_write_a_commands_result(app):
    """Dash runs the callback that shows a result once, for the latest value of its store: a
    timer writing the same store right after a label's result would swallow "Labeled …". So
    what the timers (the 2 s tick, the training panel's poll) have to say has its own store,
    and new counters alone go straight to ``versions``."""
    page = HeadlessPage(app)
    timers = [d for d in page.deps
              if {"tick.n_intervals", "train-tick.n_intervals"} & {f"{i['id']}.{i['property']}" for i in d["inputs"]}]
    assert len(timers) == (2 if app.ssvae.state.worker is not None else 1)
    for dep in timers:
        assert "result.data" not in dep["output"], dep["output"]
    page.load()
    page.tick()
    label = page.action("key-event.data", {"key": "3"})  # the tick leaves before its answer lands
    assert label.result["message"].startswith("Labeled Serial")
    call = page.tick().calls[0]
    assert call.value("versions", "data") == label.result["versions"]
    assert call.value("update", "data") is None and call.value("result", "data") is None


def test_new_predictions_snapshot_is_picked_up_by_the_tick(app, page, ds):
    ws = app.ssvae.state.workspace
    import os
    import time

    preds = synthetic_predictions(ds, seed=9)
    preds.save(ws.predictions)
    os.utime(ws.predictions, (time.time() + 5, time.time() + 5))
    tick = page.tick()
    assert tick.result["ok"] and "refreshed" in tick.result["message"]
    m = next(c for c in tick.calls if "map.figure" in c.output)
    assert "data" in m.value("map", "figure")  # a whole new figure for a new map


def test_page_works_without_predictions(tmp_path, ds):
    app = create_app(ds, tmp_path / "labels.csv", tmp_path / "ws-empty")
    page = HeadlessPage(app)
    calls = page.load().calls
    m = next(c for c in calls if "map.figure" in c.output)
    assert m.value("map-placeholder", "className") == "map-placeholder"
    q = next(c for c in calls if "queue.children" in c.output)
    assert len(q.value("queue", "children")) == 20
    assert "random order" in q.value("queue-caption", "children")
    assert page.trigger("key-event.data", {"key": "2"}).result["ok"]
    assert labels_csv(app).count("\n") == 2
    dep = page.find("strategy.value")
    r = page.post(dep, "strategy.value", {"strategy.value": "entropy", "diverse.value": False})
    r.result = r.value("result", "data")
    assert not r.result["ok"] and "trained model" in r.result["message"]


def test_export_and_import_with_conflict_summary(app, page):
    page.trigger("map.clickData", {"points": [{"curveNumber": 0, "pointIndex": 1}]})
    page.trigger("key-event.data", {"key": "1"})
    dep = page.find("export-btn.n_clicks")
    call = page.post(dep, "export-btn.n_clicks", {"export-btn.n_clicks": 1})
    download = call.value("download", "data")
    assert download["filename"] == "labels.csv" and download["content"] == labels_csv(app)

    text = "Serial,label\n1,7\n2,2\n"
    contents = "data:text/csv;base64," + base64.b64encode(text.encode()).decode()
    dep = page.find("upload.contents")
    call = page.post(dep, "upload.contents", {"upload.contents": contents},
                     {"upload.filename": "other.csv"})
    assert call.value("import-modal", "is_open") is True
    summary = json.dumps(call.value("import-summary", "children"))
    assert "1 new label," in summary and "1 conflict." in summary and "Serial 1: 1 \\u2192 7" in summary
    pending = call.value("import-pending", "data")
    dep = page.find("import-theirs.n_clicks")
    call = page.post(dep, "import-theirs.n_clicks", {"import-theirs.n_clicks": 1},
                     {"import-pending.data": pending})
    assert call.value("result", "data")["ok"]
    assert labels_csv(app) == "Serial,label\n1,7\n2,2\n"


def test_bad_upload_is_refused_with_a_message(app, page):
    dep = page.find("upload.contents")
    for contents, words in [("data:text/csv;base64,@@@", "not valid base64"),
                            ("data:text/csv;base64," + base64.b64encode(b"Serial,label\n5,dog\n").decode(),
                             "not one of the classes"),
                            ("data:text/csv;base64," + base64.b64encode(b"\x00\x01").decode(), "binary")]:
        call = page.post(dep, "upload.contents", {"upload.contents": contents}, {"upload.filename": "x.csv"})
        result = call.value("result", "data")
        assert result["ok"] is False and words in result["message"]
    assert labels_csv(app) == ""


# -- forged payloads posted straight to /_dash-update-component --------------------------------
FORGED = [
    ("key-event.data", {"key": "3"}, {"shown-serial.data": 10_000}, "outside the data set"),
    ("key-event.data", {"key": "3"}, {"shown-serial.data": -1}, "outside the data set"),
    ("key-event.data", {"key": "3"}, {"shown-serial.data": "12; DROP TABLE"}, "whole number"),
    ("key-event.data", {"key": "3"}, {"shown-serial.data": [1, 2]}, "whole number"),
    ("key-event.data", {"key": "3"}, {"shown-serial.data": None}, "select an image first"),
    ("key-event.data", {"key": "42"}, {"shown-serial.data": 5}, "does nothing"),
    ("key-event.data", {"nokey": 1}, {"shown-serial.data": 5}, "must be an object with a key"),
    ("key-event.data", "3", {"shown-serial.data": 5}, "must be an object with a key"),
    ("map.clickData", {"points": [{"curveNumber": 0, "pointIndex": 99999}]}, {}, "outside the data set"),
    ("map.clickData", {"points": [{"curveNumber": 0, "pointIndex": "7"}]}, {}, "whole number"),
    ("map.clickData", {"points": [{"curveNumber": 0}]}, {}, "whole number"),
    ("map.clickData", {"nopoints": True}, {}, "must name a point"),
    ("map.clickData", {"points": [{"curveNumber": 5, "pointIndex": 1}]}, {}, "not an image"),
    ("map.selectedData", {"points": [{"curveNumber": 0, "pointIndex": 1e9}]}, {}, "outside the data set"),
    ("map.selectedData", {"points": "all"}, {}, "list of points"),
    ("ui-event.data", {"type": "select", "serial": 1e12}, {}, "outside the data set"),
    ("ui-event.data", {"type": "select"}, {}, "whole number"),
    ("ui-event.data", {"type": "delete_everything"}, {}, "not known"),
    ("color-by.value", "<script>", {}, "not one of"),
    ("auto-advance.value", "yes", {}, "true or false"),
]


@pytest.mark.parametrize("trigger, value, states, words", FORGED)
def test_forged_payloads_are_refused_and_change_nothing(app, page, trigger, value, states, words):
    page.trigger("key-event.data", {"key": "2"})  # one real label to protect
    before_csv = labels_csv(app)
    log = app.ssvae.state.workspace.command_log
    before_log = log.read_text()
    versions = dict(app.ssvae.state.versions)
    dep = page.find(trigger, "result.data")
    call = page.post(dep, trigger, {trigger: value}, states)
    assert call.status == 200
    result = call.value("result", "data")
    assert result["ok"] is False
    assert words.lower() in result["message"].lower()
    assert labels_csv(app) == before_csv and log.read_text() == before_log
    assert app.ssvae.state.versions == versions


@pytest.mark.parametrize("index", [10, -1, "3", None, 2.5])
def test_forged_label_button_index_is_refused(app, page, index):
    before = labels_csv(app)
    concrete = {"index": index, "type": "label-btn"}
    trigger = json.dumps(concrete, sort_keys=True, separators=(",", ":")) + ".n_clicks"
    dep = page.find('{"index":["ALL"],"type":"label-btn"}.n_clicks')
    body = {"output": dep["output"], "outputs": {"id": "result", "property": "data"},
            "inputs": [[{"id": concrete, "property": "n_clicks", "value": 1}]],
            "state": [{"id": "shown-serial", "property": "data", "value": 3},
                      {"id": "session-id", "property": "data", "value": "tab"}],
            "changedPropIds": [trigger]}
    call = page.post(dep, trigger, {}, raw_body=body)
    assert call.status == 200
    result = call.value("result", "data")
    assert result["ok"] is False and "class" in result["message"]
    assert labels_csv(app) == before


def test_structurally_broken_requests_change_nothing(app, page):
    before = labels_csv(app)
    dep = page.find("key-event.data")
    for body in ({"output": dep["output"]}, {"output": "nope.data", "inputs": []},
                 {"output": dep["output"], "inputs": "x", "changedPropIds": ["key-event.data"]}):
        resp = page.client.post("/_dash-update-component", json=body)
        assert resp.status_code >= 400 or b'"ok":false' in resp.get_data().replace(b" ", b"")
    assert labels_csv(app) == before


def test_hover_card_shows_serial_prediction_and_score(app, page):
    dep = page.find("hover-point.data", "map-tooltip")
    hover = {"serial": 5, "bbox": {"x0": 1, "x1": 2, "y0": 1, "y1": 2}}
    call = page.post(dep, "hover-point.data", {"hover-point.data": hover})
    assert call.value("map-tooltip", "show") is True
    text = json.dumps(call.value("map-tooltip", "children"))
    p = app.ssvae.state.predictions
    # the default strategy (auto) ranks by typicality, then margin: the card shows the margin
    assert "Serial 5" in text and f"predicted {int(p.pred[5])}" in text and "margin" in text
    assert "data:image/png;base64," in text
    assert call.value("hover-shown", "data")["serial"] == 5
    for bad in ({"serial": "5"}, {"serial": 10 ** 9}, {}, "x", None):
        call = page.post(dep, "hover-point.data", {"hover-point.data": bad})
        assert call.value("map-tooltip", "show") is False


def test_first_predictions_replace_the_placeholder(tmp_path, ds):
    ws = tmp_path / "ws-later"
    app = create_app(ds, tmp_path / "labels.csv", ws)
    page = HeadlessPage(app)
    page.load()
    page.trigger("key-event.data", {"key": "4"})  # labeling before any model
    synthetic_predictions(ds).save(app.ssvae.state.workspace.predictions)  # the selected model
    tick = page.tick()
    assert "first trained model" in tick.result["message"]
    m = next(c for c in tick.calls if "map.figure" in c.output)
    assert m.value("map-placeholder", "className") == "map-placeholder d-none"
    fig = m.value("map", "figure")
    assert fig["data"][0]["type"] == "scattergl" and len(fig["data"]) == 3
    q = next(c for c in tick.calls if "queue.children" in c.output)
    assert q.value("strategy", "disabled") is False
    # auto with one label ranks typical images; the badges show the uncertainty
    assert q.value("queue-caption", "children") == "typical images first · badges: uncertainty (1 − margin)"
