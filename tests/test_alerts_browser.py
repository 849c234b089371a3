"""The `/alerts` page in a real browser: a firing alert made by the real evaluator is
listed; an anonymous visitor gets no action; logging in through the form (a wrong password
first) lets an operator acknowledge, and the page then shows who did; logging out ends it.

Run: .venv/bin/python -m pytest tests/test_alerts_browser.py --webdriver Chrome --headless
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any as DashComposite  # dash.testing is not annotated

import pytest
from operator_helpers import OPERATOR, PASSWORD, Setup, firing_alert
from selenium.webdriver.common.by import By

from testkit.kiosk import wait_until

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning"),
    pytest.mark.filterwarnings("ignore:HTTPResponse.getheader:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:DatetimeIndex.dayofyear is deprecated"),
]


@pytest.fixture
def setup(chromium: str, tmp_path: Path) -> Iterator[Setup]:
    found = firing_alert(tmp_path)
    yield found
    found.store.close()
    found.state.close()


def _go(dash_duo: DashComposite, path: str) -> None:
    dash_duo.driver.get(dash_duo.server_url + path)


def _text(dash_duo: DashComposite) -> str:
    return str(dash_duo.driver.find_element(By.CSS_SELECTOR, "#_pages_content").text)


def _has(dash_duo: DashComposite, *needles: str) -> None:
    try:
        wait_until(lambda: all(n in _text(dash_duo) for n in needles), 30, repr(needles))
    except AssertionError:
        raise AssertionError(f"missing {needles!r} in:\n{_text(dash_duo)[:3000]}") from None


def _log_in(dash_duo: DashComposite, password: str) -> None:
    _go(dash_duo, "/login?next=/alerts&lang=en")
    field = wait_until(lambda: dash_duo.driver.find_elements(By.ID, "login-username"), 30,
                       "the login form")[0]
    field.send_keys(OPERATOR)
    dash_duo.driver.find_element(By.ID, "login-password").send_keys(password)
    dash_duo.driver.find_element(By.ID, "login-submit").click()


def test_alerts_page_acknowledge_needs_a_login(dash_duo: DashComposite, setup: Setup) -> None:
    dash_duo.start_server(setup.app())
    alert = setup.alert
    row = f"#alert-{alert.id}"

    # anonymous, in German and English: the firing alert is listed, no action, a way to log in
    _go(dash_duo, "/alerts?lang=de")
    _has(dash_duo, "Alarme", "saal_co2 (de)", "co2_high", "1.800", "ausgelöst",
         "Zum Bestätigen und Stummschalten anmelden")
    _go(dash_duo, "/alerts?lang=en")
    _has(dash_duo, "saal_co2 (en)", "co2_high", "1,800", "firing", "Log in to acknowledge")
    assert dash_duo.driver.find_elements(By.CSS_SELECTOR, f"#ack-{alert.id}") == []
    assert dash_duo.driver.find_elements(By.CSS_SELECTOR, "form[action='/alerts/ack']") == []

    # a wrong password is refused and says so
    _log_in(dash_duo, "not the password at all")
    wait_until(lambda: dash_duo.driver.find_elements(By.ID, "login-error"), 30,
               "the login error")
    assert "Wrong user name or password" in _text(dash_duo)

    # the right one leads back to the alerts, now with the action
    _log_in(dash_duo, PASSWORD)
    _has(dash_duo, f"Logged in as {OPERATOR}", "saal_co2 (en)")
    dash_duo.driver.find_element(By.CSS_SELECTOR, f"{row} summary").click()
    dash_duo.driver.find_element(By.ID, f"ack-comment-{alert.id}").send_keys("on my way")
    dash_duo.driver.find_element(By.ID, f"ack-{alert.id}").click()
    _has(dash_duo, "Alert acknowledged.")
    wait_until(lambda: OPERATOR in dash_duo.driver.find_element(By.CSS_SELECTOR, row).text,
               30, "the acknowledging operator in the alert's row")
    assert "on my way" in dash_duo.driver.find_element(By.CSS_SELECTOR, row).text
    stored = setup.state.alert(alert.id)
    assert stored is not None and stored.ack_by == OPERATOR and stored.ack_comment == "on my way"

    # logging out: the actions are gone again, and so is the operator's name
    dash_duo.driver.find_element(By.ID, "logout-button").click()
    _has(dash_duo, "Logged out.")
    _go(dash_duo, "/alerts?lang=en")
    _has(dash_duo, "saal_co2 (en)", "acknowledged", "Log in to acknowledge")
    assert OPERATOR not in _text(dash_duo)
    assert dash_duo.driver.find_elements(By.CSS_SELECTOR, "form[action='/alerts/ack']") == []
    assert [e for e in dash_duo.get_logs() if e.get("level") == "SEVERE"] == []
