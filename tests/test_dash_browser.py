"""The page in headless Chromium (dash_duo): click, keys, undo, box selection, download, reload."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from browser_helpers import (LONELY, N, make_app, point_position, press, rows, wait_for_map,
                             wait_for_message)
from dash_fixtures import tab_session, wait_until
from dashboard.figures import map_grid

pytestmark = pytest.mark.browser


def test_click_point_selects_it(dash_duo, tmp_path):
    app = make_app(tmp_path)
    dash_duo.start_server(app)
    wait_for_map(dash_duo)
    gx, gy = (float(v) for v in map_grid(app.ssvae.state)[LONELY])
    px, py = point_position(dash_duo.driver, gx, gy)
    ActionChains(dash_duo.driver).move_to_location(int(px), int(py)).pause(0.3).click().perform()
    dash_duo.wait_for_text_to_equal("#sel-title", f"Serial {LONELY}", timeout=10)
    assert tab_session(app).selected == LONELY
    # the ring moved onto the point
    ring = dash_duo.driver.execute_script(
        "const gd=document.querySelector('#map .js-plotly-plot'); return [gd.data[2].x[0], gd.data[2].y[0]];")
    assert ring == [gx, gy]
    dash_duo.driver.save_screenshot(str(tmp_path / "selected.png"))
    assert dash_duo.get_logs() == [] or all("favicon" in e["message"] for e in dash_duo.get_logs())


def test_digit_labels_stats_update_and_undo_removes_it(dash_duo, tmp_path):
    app = make_app(tmp_path)
    dash_duo.start_server(app)
    wait_for_map(dash_duo)
    shown = tab_session(app).selected
    dash_duo.wait_for_text_to_equal("#sel-title", f"Serial {shown}", timeout=10)
    press(dash_duo, "3")
    wait_for_message(dash_duo, f"Labeled Serial {shown} as 3")
    wait_until(lambda: f"{shown},3" in rows(app), what="the label in labels.csv")
    dash_duo.wait_for_contains_text("#stats-summary", f"1 of {N}", timeout=10)
    # auto-advance moved on; the queue no longer offers the labeled image
    dash_duo.wait_for_text_to_equal("#sel-title", f"Serial {tab_session(app).selected}", timeout=10)
    assert tab_session(app).selected != shown
    assert not dash_duo.driver.find_elements("css selector", f'#queue [data-serial="{shown}"]')
    press(dash_duo, "z", Keys.CONTROL)
    wait_until(lambda: f"{shown},3" not in rows(app), what="the undo")
    dash_duo.wait_for_contains_text("#stats-summary", f"0 of {N}", timeout=10)
    dash_duo.wait_for_text_to_equal("#sel-title", f"Serial {shown}", timeout=10)
    press(dash_duo, "z", Keys.CONTROL, Keys.SHIFT)
    wait_until(lambda: f"{shown},3" in rows(app), what="the redo")


def test_box_selection_is_labeled_in_one_go(dash_duo, tmp_path):
    app = make_app(tmp_path)
    dash_duo.start_server(app)
    wait_for_map(dash_duo)
    driver = dash_duo.driver
    driver.find_element("css selector", '#map .modebar-btn[data-val="select"]').click()
    grid = map_grid(app.ssvae.state).astype(float)  # the map's coordinates on the page
    (x0, y0), (x1, y1) = (8000.0, 8000.0), (26000.0, 26000.0)  # a corner of the ring

    def within(margin):
        return set(np.flatnonzero((grid[:, 0] > x0 - margin) & (grid[:, 0] < x1 + margin) &
                                  (grid[:, 1] > y0 - margin) & (grid[:, 1] < y1 + margin)).tolist())
    ax, ay = point_position(driver, x0, y1)
    bx, by = point_position(driver, x1, y0)
    (ActionChains(driver).move_to_location(int(ax), int(ay)).click_and_hold().pause(0.2)
     .move_to_location(int((ax + bx) / 2), int((ay + by) / 2)).pause(0.2)
     .move_to_location(int(bx), int(by)).pause(0.2).release().perform())
    batch = wait_until(lambda: set(tab_session(app).batch), what="the box selection")
    assert within(-400) <= batch <= within(400) and len(batch) >= 3  # a pixel or two at the edges
    dash_duo.wait_for_contains_text("#batch-count", f"{len(batch)} selected", timeout=10)
    driver.find_element("css selector", "#batch-bar .label-btn.cls-4").click()
    wait_until(lambda: len(rows(app)) == len(batch), what="the batch labels")
    assert rows(app) == [f"{s},4" for s in sorted(batch)]
    dash_duo.wait_for_contains_text("#stats-summary", f"{len(batch)} of {N}", timeout=10)
    wait_until(lambda: "d-none" in dash_duo.find_element("#batch-bar").get_attribute("class"),
               what="the batch bar to close")


def test_download_and_import_labels_csv(dash_duo, tmp_path):
    app = make_app(tmp_path)
    dash_duo.start_server(app)
    wait_for_map(dash_duo)
    dash_duo.find_element(".label-buttons .label-btn.cls-5").click()
    wait_until(lambda: len(rows(app)) == 1, what="a label")
    dash_duo.find_element("#export-btn").click()
    target = Path(dash_duo.download_path) / "labels.csv"
    wait_until(target.exists, timeout=15, what="the download")
    wait_until(lambda: target.read_text() == app.ssvae.state.labels.path.read_text(),
               what="the downloaded file to match labels.csv")
    # import another file: a conflict summary first, then the merge
    serial = int(rows(app)[0].split(",")[0])
    other = tmp_path / "other.csv"
    other.write_text(f"Serial,label\n{serial},7\n{(serial + 1) % N},7\n")
    dash_duo.driver.find_element("css selector", "#upload input[type=file]").send_keys(str(other))
    dash_duo.wait_for_contains_text("#import-summary", "1 new label,", timeout=10)
    assert f"Serial {serial}: 5 → 7" in dash_duo.find_element("#import-summary").text
    dash_duo.find_element("#import-ours").click()
    wait_for_message(dash_duo, "Imported other.csv")
    wait_until(lambda: len(rows(app)) == 2, what="the import")
    assert f"{serial},5" in rows(app)  # kept mine on the conflict


def test_reload_keeps_state_and_undo(dash_duo, tmp_path):
    app = make_app(tmp_path)
    dash_duo.start_server(app)
    wait_for_map(dash_duo)
    first = tab_session(app).selected
    press(dash_duo, "2")
    wait_until(lambda: f"{first},2" in rows(app), what="the first label")
    # labels.csv is written a moment before auto-advance moves the selection: wait for both
    second = wait_until(lambda: tab_session(app).selected if tab_session(app).selected != first else None,
                        what="auto-advance")
    dash_duo.wait_for_text_to_equal("#sel-title", f"Serial {second}", timeout=10)
    press(dash_duo, "5")
    wait_until(lambda: f"{second},5" in rows(app), what="the second label")
    dash_duo.find_element("#color-by label[for$='predicted'], #color-by .form-check:nth-child(2) label").click()
    wait_until(lambda: app.ssvae.state.color_by == "predicted", what="colour by prediction")
    selected = tab_session(app).selected
    dash_duo.driver.refresh()
    wait_for_map(dash_duo)
    dash_duo.wait_for_contains_text("#stats-summary", f"2 of {N}", timeout=10)
    dash_duo.wait_for_text_to_equal("#sel-title", f"Serial {selected}", timeout=10)
    labeled = dash_duo.driver.execute_script(
        "return document.querySelector('#map .js-plotly-plot')._fullData[1]._length;")
    assert labeled == 2
    assert dash_duo.driver.execute_script(
        "return document.querySelector('#map .js-plotly-plot')._fullData[0].marker.colorscale.length;") > 2
    assert dash_duo.find_element("#undo-btn").is_enabled()
    dash_duo.find_element("#undo-btn").click()
    wait_until(lambda: f"{second},5" not in rows(app), what="undo after reload")
    assert f"{first},2" in rows(app)


def test_page_without_predictions_lets_the_user_label(dash_duo, tmp_path):
    app = make_app(tmp_path, with_predictions=False)
    dash_duo.start_server(app)
    dash_duo.wait_for_contains_text("#map-placeholder", "appears here shortly", timeout=10)
    dash_duo.wait_for_contains_text("#queue-caption", "random order", timeout=10)
    items = dash_duo.driver.find_elements("css selector", "#queue [data-serial]")
    assert len(items) == 20
    target = int(items[3].get_attribute("data-serial"))
    items[3].click()
    dash_duo.wait_for_text_to_equal("#sel-title", f"Serial {target}", timeout=10)
    press(dash_duo, "9")
    wait_until(lambda: f"{target},9" in rows(app), what="a label without a model")
    # typing into an input is not labeling
    dash_duo.driver.execute_script(
        "const i=document.createElement('input'); i.id='scratch'; document.body.appendChild(i);")
    dash_duo.find_element("#scratch").send_keys("1")
    dash_duo.driver.execute_script("document.getElementById('scratch').remove();")
    # keys reach the page in order: once this 8 is in, the 1 typed was handled before it
    press(dash_duo, "8")  # labels the image shown next
    wait_until(lambda: len(rows(app)) == 2, what="the key pressed after typing")
    press(dash_duo, "z", Keys.CONTROL)  # had the 1 been a label, undo would leave it there
    wait_until(lambda: len(rows(app)) == 1, what="undo of that key")
    assert rows(app) == [f"{target},9"]
