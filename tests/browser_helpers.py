"""Helpers of the browser tests (dash_duo): a synthetic app, its labels file, keys, clicks,
waits for the map."""
from __future__ import annotations

from pathlib import Path

from selenium.webdriver.common.action_chains import ActionChains

from dash_fixtures import page_workspace, synthetic_dataset, synthetic_predictions, wait_until
from dashboard.app import create_app

N = 300
LONELY = 7  # a point placed alone at a corner of the map, easy to click


def make_app(tmp_path: Path, with_predictions: bool = True, n: int = N):
    ds = synthetic_dataset(n=n, root=tmp_path / "data")
    preds = None
    if with_predictions:
        preds = synthetic_predictions(ds)
        preds.map2d[LONELY] = [-8.0, 8.0]  # top left: in view and clear of the mode bar
    return create_app(ds, tmp_path / "labels.csv", page_workspace(tmp_path, preds, selected_model=True))


def rows(app) -> list[str]:
    path = app.ssvae.state.labels.path
    return path.read_text().splitlines()[1:] if path.exists() else []


def point_position(driver, x: float, y: float) -> tuple[float, float]:
    """Viewport coordinates of data point (x, y) on the map."""
    return driver.execute_script("""
        const gd = document.querySelector('#map .js-plotly-plot');
        const fl = gd._fullLayout, box = gd.getBoundingClientRect();
        return [box.left + fl._size.l + fl.xaxis.l2p(arguments[0]),
                box.top + fl._size.t + fl.yaxis.l2p(arguments[1])];""", x, y)


# Every text the message toast shows, recorded as the page draws it: a success message closes
# itself after 3.5 s and a later one replaces it, so a loaded machine can miss it between polls.
_WATCH_MESSAGES = """
if (!window.__messages) {
    window.__messages = [];
    const record = () => {
        const m = document.getElementById('message');
        const text = m && m.textContent;
        if (text && window.__messages[window.__messages.length - 1] !== text) { window.__messages.push(text); }
    };
    new MutationObserver(record).observe(document.body, {childList: true, subtree: true, characterData: true});
    record();
}"""


def watch_messages(dash_duo) -> None:
    """Start recording the page's messages (again after a reload); call before the action."""
    dash_duo.driver.execute_script(_WATCH_MESSAGES)


def wait_for_message(dash_duo, text: str, timeout: float = 10.0) -> str:
    """The first message the page showed since watch_messages that contains text."""
    def shown():
        seen = dash_duo.driver.execute_script("return window.__messages;")
        assert seen is not None, "watch_messages was not called on this page"
        return next((m for m in seen if text in m), None)
    return wait_until(shown, timeout=timeout, what=f"the message {text!r}")


def wait_for_map(dash_duo):
    dash_duo.wait_for_element("#map .js-plotly-plot .gl-container, #map .js-plotly-plot canvas", timeout=15)
    wait_until(lambda: dash_duo.driver.execute_script(
        "const gd=document.querySelector('#map .js-plotly-plot');"
        "return gd && gd._fullData && gd._fullData.length === 3;"), what="the map figure")
    size = "const gd=document.querySelector('#map .js-plotly-plot'); return [gd._fullLayout.width, gd._fullLayout.height];"
    last = [None]

    def settled():  # the graph fills its card: wait until it stops resizing
        now = dash_duo.driver.execute_script(size)
        same, last[0] = now == last[0], now
        return same
    wait_until(settled, what="the map to settle")
    watch_messages(dash_duo)


def press(dash_duo, key, *modifiers):
    chain = ActionChains(dash_duo.driver)
    for m in modifiers:
        chain = chain.key_down(m)
    chain = chain.send_keys(key)
    for m in reversed(modifiers):
        chain = chain.key_up(m)
    chain.perform()


def graph_ready(dash_duo) -> bool:
    """The graph component has mounted and plotted (its async bundle is loaded)."""
    return bool(dash_duo.driver.execute_script(
        "const gd=document.querySelector('#map .js-plotly-plot'); return !!(gd && gd._fullLayout);"))


def js(dash_duo, code):
    return dash_duo.driver.execute_script(code)


def click(dash_duo, selector):
    el = dash_duo.find_element(selector)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", el)
    wait_until(lambda: dash_duo.driver.execute_script(
        "const r = arguments[0].getBoundingClientRect();"
        "return r.top >= 0 && r.bottom <= window.innerHeight;", el), what=f"{selector} in view")
    el.click()
