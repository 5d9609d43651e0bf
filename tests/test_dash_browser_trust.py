"""Headless Chromium: the S key skips an image, and two tabs keep their own selection and undo."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.keys import Keys

from browser_helpers import make_app, press, rows
from dash_fixtures import wait_until

pytestmark = pytest.mark.browser
N = 200


def shown(dash_duo) -> int:
    """The Serial the current tab shows, once it shows one."""
    text = wait_until(lambda: (dash_duo.find_element("#sel-title").text or "").startswith("Serial ")
                      and dash_duo.find_element("#sel-title").text, what="a selected image")
    return int(text.split()[1])


def session_id(driver) -> str:
    return wait_until(lambda: driver.execute_script("return sessionStorage.getItem('session-id');"),
                      what="the tab's session id")


def test_s_key_skips_the_image(dash_duo, tmp_path):
    app = make_app(tmp_path, n=N)
    dash_duo.start_server(app)
    first = shown(dash_duo)
    press(dash_duo, "s")
    wait_until(lambda: app.ssvae.state.labels.skipped() == [first], what="the skip")
    wait_until(lambda: shown(dash_duo) != first, what="the next image")
    dash_duo.wait_for_contains_text("#stats-summary", "1 skipped", timeout=10)
    assert rows(app) == []
    assert (tmp_path / "labels.skipped.csv").read_text() == f"Serial\n{first}\n"
    queue = dash_duo.driver.find_elements("css selector", "#queue [data-serial]")
    assert str(first) not in [q.get_attribute("data-serial") for q in queue]
    press(dash_duo, "z", Keys.CONTROL)  # undone like a label
    wait_until(lambda: app.ssvae.state.labels.skipped() == [], what="the undo of the skip")
    dash_duo.wait_for_text_to_equal("#sel-title", f"Serial {first}", timeout=10)
    # digits still label
    press(dash_duo, "3")
    wait_until(lambda: rows(app) == [f"{first},3"], what="the digit label")


def test_two_tabs_keep_their_own_selection_and_undo(dash_duo, tmp_path):
    app = make_app(tmp_path, n=N)
    dash_duo.start_server(app)
    driver = dash_duo.driver
    tab_a = driver.current_window_handle
    a_image = shown(dash_duo)
    a_session = session_id(driver)

    driver.switch_to.new_window("tab")
    tab_b = driver.current_window_handle
    driver.get(dash_duo.server_url)
    b_first = shown(dash_duo)
    assert session_id(driver) != a_session
    # B moves on to another image; A's selection must not follow
    items = wait_until(lambda: driver.find_elements("css selector", "#queue [data-serial]"),
                       what="the queue")
    b_image = int(items[3].get_attribute("data-serial"))
    items[3].click()
    dash_duo.wait_for_text_to_equal("#sel-title", f"Serial {b_image}", timeout=10)
    assert b_image != b_first and b_image != a_image
    press(dash_duo, "5")  # B labels its image
    wait_until(lambda: f"{b_image},5" in rows(app), what="B's label")

    driver.switch_to.window(tab_a)
    dash_duo.wait_for_text_to_equal("#sel-title", f"Serial {a_image}", timeout=10)
    press(dash_duo, "1")  # A labels the image A shows, not B's
    wait_until(lambda: f"{a_image},1" in rows(app), what="A's label")
    assert f"{b_image},1" not in rows(app)
    press(dash_duo, "z", Keys.CONTROL)  # A's undo undoes A's label, B's stays
    wait_until(lambda: f"{a_image},1" not in rows(app), what="A's undo")
    assert rows(app) == [f"{b_image},5"]

    driver.switch_to.window(tab_b)
    driver.find_element("css selector", "body").click()
    press(dash_duo, "z", Keys.CONTROL)
    wait_until(lambda: rows(app) == [], what="B's undo")

    driver.switch_to.window(tab_a)  # a reload keeps the tab's session: redo is still there
    driver.refresh()
    assert session_id(driver) == a_session
    wait_until(lambda: driver.find_element("css selector", "#redo-btn").is_enabled(),
               what="A's redo after a reload")
    assert shown(dash_duo) == a_image
