"""The latent map in headless Chromium, checked by what a person sees: the pixels of the map's
element. A first predictions snapshot that arrives while the tab is open must turn the
placeholder into a drawn map in that tab, without a reload."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from selenium.webdriver.common.action_chains import ActionChains

from browser_helpers import LONELY, N, graph_ready, make_app, point_position, rows, wait_for_map
from dash_fixtures import synthetic_dataset, synthetic_predictions, tab_session, wait_until
from dashboard.app import create_app

pytestmark = pytest.mark.browser
#: pixels that must differ from the panel's background before the map counts as drawn; 300
#: points of 4 px draw a few thousand, a blank or hidden map none
MIN_INK = 400


def map_ink(dash_duo) -> int:
    """How many pixels of the map's element differ clearly from its most common colour (the
    background), from a screenshot of the element: what the user sees, not figure data."""
    el = dash_duo.find_element("#map")
    png = Image.open(io.BytesIO(el.screenshot_as_png)).convert("RGB")
    px = np.asarray(png, dtype=np.int16).reshape(-1, 3)
    colors, counts = np.unique(px, axis=0, return_counts=True)
    background = colors[counts.argmax()]
    return int((np.abs(px - background).sum(axis=1) > 40).sum())


def test_first_snapshot_draws_the_map_in_the_open_tab(dash_duo, tmp_path):
    ds = synthetic_dataset(n=N, root=tmp_path / "data")
    ws = tmp_path / "ws"
    ws.mkdir()
    app = create_app(ds, tmp_path / "labels.csv", ws)
    dash_duo.start_server(app)
    dash_duo.wait_for_contains_text("#map-placeholder", "appears here shortly", timeout=10)
    wait_until(lambda: graph_ready(dash_duo), what="the map graph to mount")
    assert dash_duo.find_element("#map-placeholder").is_displayed()
    # the first model arrives while this tab is open
    synthetic_predictions(ds).save(app.ssvae.state.workspace.predictions)  # the selected model
    dash_duo.wait_for_contains_text("#map-caption", "model after epoch", timeout=15)
    wait_until(lambda: not dash_duo.find_element("#map-placeholder").is_displayed(),
               what="the placeholder to go")
    wait_until(lambda: map_ink(dash_duo) >= MIN_INK, timeout=15, what="points drawn on the map")


def test_lasso_a_cluster_and_label_it(dash_duo, tmp_path):
    from dashboard.figures import map_grid

    app = make_app(tmp_path)
    dash_duo.start_server(app)
    wait_for_map(dash_duo)
    driver = dash_duo.driver
    driver.find_element("css selector", '#map .modebar-btn[data-val="lasso"]').click()
    state = app.ssvae.state
    grid = map_grid(state).astype(float)
    truth = state.dataset.truth
    center = grid[truth == 0].mean(axis=0)  # the class-0 cluster of the synthetic ring
    radius = 0.12 * 65535
    angles = np.linspace(0, 2 * np.pi, 17)
    ring = [point_position(driver, center[0] + radius * np.cos(a), center[1] + radius * np.sin(a))
            for a in angles]
    chain = ActionChains(driver).move_to_location(int(ring[0][0]), int(ring[0][1])).click_and_hold()
    for x, y in ring[1:]:
        chain = chain.move_to_location(int(x), int(y)).pause(0.05)
    chain.release().perform()

    def within(r):
        return set(np.flatnonzero(np.hypot(*(grid - center).T) < r).tolist())
    batch = wait_until(lambda: set(tab_session(app).batch), what="the lasso selection")
    # the 16-gon lies between 0.98 r and r; a pixel or two of rounding at the edge
    assert within(0.97 * radius - 400) <= batch <= within(radius + 400) and len(batch) >= 10
    dash_duo.wait_for_contains_text("#batch-count", f"{len(batch)} selected", timeout=10)
    driver.find_element("css selector", "#batch-bar .label-btn.cls-0").click()
    wait_until(lambda: len(rows(app)) == len(batch), what="the batch labels")
    assert rows(app) == [f"{s},0" for s in sorted(batch)]
    dash_duo.wait_for_contains_text("#stats-summary", f"{len(batch)} of {N}", timeout=10)


def test_map_only_snapshot_then_first_model_in_the_same_tab(dash_duo, tmp_path):
    from dash_fixtures import map_only_predictions

    ds = synthetic_dataset(n=N, root=tmp_path / "data")
    ws = tmp_path / "ws"
    ws.mkdir()
    app = create_app(ds, tmp_path / "labels.csv", ws)
    dash_duo.start_server(app)
    wait_until(lambda: graph_ready(dash_duo), what="the map graph to mount")
    map_only_predictions(ds).save(app.ssvae.state.workspace.predictions)  # the worker's first write
    dash_duo.wait_for_contains_text("#map-notice", "classifier has no labels yet", timeout=15)
    wait_until(lambda: map_ink(dash_duo) >= MIN_INK, timeout=15, what="the images' map drawn")
    assert "no model yet" in dash_duo.find_element("#map-caption").text
    assert dash_duo.find_element("#sel-pred").text == "no model yet"
    synthetic_predictions(ds).save(app.ssvae.state.workspace.predictions)  # then the first model
    dash_duo.wait_for_contains_text("#map-caption", "model after epoch", timeout=15)
    wait_until(lambda: not dash_duo.find_element("#map-notice").is_displayed(), what="the notice to go")
    dash_duo.wait_for_contains_text("#sel-pred", "model:", timeout=10)
    wait_until(lambda: map_ink(dash_duo) >= MIN_INK, timeout=15, what="the model's map drawn")


def test_hover_card_and_no_loading_tooltip_after_a_click(dash_duo, tmp_path):
    """The hover card shows whole lines; a click on the hovered point, with a slow server,
    never puts a "Loading…" tooltip (or an empty one) over the map."""
    import time

    from flask import request

    from dashboard.figures import map_grid

    app = make_app(tmp_path)

    @app.server.before_request
    def busy_server():  # a server busy training answers the tooltip's requests late
        if request.path.endswith("_dash-update-component") and b"map-tooltip" in request.get_data():
            time.sleep(0.8)
    dash_duo.start_server(app)
    wait_for_map(dash_duo)
    driver = dash_duo.driver
    gx, gy = (float(v) for v in map_grid(app.ssvae.state)[LONELY])
    px, py = point_position(driver, gx, gy)
    ActionChains(driver).move_to_location(int(px), int(py)).perform()
    seen = set()

    def look():  # the tooltip's text while it is on screen, else None; every one is kept
        text = driver.execute_script("const t=document.querySelector('.map-tooltip');"
                                     "return t && t.offsetParent !== null ? t.innerText : null;")
        seen.add(text)
        return text
    text = wait_until(lambda: "Serial" in (look() or ""), interval=0.05, what="the hover card") and look()
    assert f"Serial {LONELY}" in text and "predicted" in text and "%)" in text
    tooltip = driver.find_element("css selector", ".map-tooltip")
    inner = driver.execute_script("const t=arguments[0]; return [t.scrollWidth, t.clientWidth];", tooltip)
    assert inner[0] <= inner[1] + 1  # nothing overflows the card: "predicted 9 (100%)" in full
    ActionChains(driver).click().perform()
    wait_until(lambda: look() is not False and dash_duo.find_element("#sel-title").text == f"Serial {LONELY}",
               what="the click to select the point", interval=0.05)
    # the hand moves a little on the point after the click: Plotly, redrawn with the ring
    # moved, reports the same point again
    for dx in (1, 2, 1, 0):
        ActionChains(driver).move_to_location(int(px) + dx, int(py)).perform()
        end = time.time() + 0.5
        while time.time() < end:
            look()
    assert all(t is None or f"Serial {LONELY}" in t for t in seen), seen
    # on to another point: while its card is on the way, the old one goes, and no "Loading…"
    bx, by = point_position(driver, *(float(v) for v in map_grid(app.ssvae.state)[0]))
    ActionChains(driver).move_to_location(int(bx), int(by)).perform()
    wait_until(lambda: "Serial" in (look() or "") and f"Serial {LONELY}" not in look(),
               interval=0.05, what="the other point's card")
    assert all(t is None or t.startswith("Serial") for t in seen), seen
