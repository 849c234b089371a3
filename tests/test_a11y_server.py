"""The server's HTML says its language and a translated title (issue 14), and every chart's
text alternative names the figure that matters; no browser needed (Flask's test client)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from dashboard.app import create_app
from dashboard.data.history import History
from dashboard.data.overview import Trend
from dashboard.figures.described import MAX_ROWS, history_text, trend_text
from stadtpuls.catalogue import load_catalogue
from stadtpuls.reading import SeriesKey
from stadtpuls.store.sqlite import SQLiteStore
from stadtpuls.units import Quantity

CATALOGUE = Path(__file__).resolve().parents[1] / "config" / "stuehlinger.yaml"
ZONE = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(("path", "headers", "lang", "title"), [
    ("/energy?lang=en", {}, "en", "Energy – Stadtpuls"),
    ("/energy", {"Accept-Language": "en-GB,en;q=0.8"}, "en", "Energy – Stadtpuls"),
    ("/energy", {"Accept-Language": "fr-FR"}, "de", "Energie – Stadtpuls"),
    ("/energy", {"Cookie": "stadtpuls_lang=en", "Accept-Language": "de"}, "en",
     "Energy – Stadtpuls"),
    ("/sensors/stuehlinger~weather_air_temperature?lang=de", {}, "de", "Sensor – Stadtpuls"),
    ("/accessibility?lang=en", {}, "en", "Accessibility statement – Stadtpuls"),
    ("/accessibility?lang=de", {}, "de", "Erklärung zur Barrierefreiheit – Stadtpuls"),
])
def test_server_html_has_lang_and_translated_title(tmp_path: Path, path: str,
                                                   headers: dict[str, str], lang: str,
                                                   title: str) -> None:
    store = SQLiteStore(str(tmp_path / "s.db"))
    app = create_app(store, load_catalogue(CATALOGUE))
    client = app.server.test_client()
    if "Cookie" in headers:  # the test client keeps cookies in its own jar
        client.set_cookie("stadtpuls_lang", headers.pop("Cookie").split("=")[1])
    page = client.get(path, headers=headers).get_data(as_text=True)
    assert f'<html lang="{lang}">' in page
    assert f"<title>{title}</title>" in page
    store.close()


def test_trend_text_names_last_and_peak_and_tables_hourly_means() -> None:
    index = pd.date_range(datetime(2025, 6, 14, 0, 0, tzinfo=UTC), periods=288, freq="5min")
    values = [float(i % 100) for i in range(288)]
    values[150] = 999.0
    trend = Trend("line", "°C", pd.DataFrame({"sensor:t": values}, index=index))
    text = trend_text(trend, ZONE, "de", {"sensor:t": "Lufttemperatur"})
    assert "Lufttemperatur zuletzt 87" in text.summary and "999" in text.summary
    assert "14:30" in text.summary  # 12:30 UTC in Freiburg's summer time
    assert len(text.rows) == 24 and text.columns == ["Zeit", "Lufttemperatur [°C]"]
    assert "Stundenmittel" in text.caption


def test_history_table_is_bounded_to_the_newest_rows() -> None:
    times = pd.date_range(datetime(2025, 1, 1, tzinfo=UTC), periods=MAX_ROWS + 50, freq="1min")
    frame = pd.DataFrame({"time": times.tz_convert(ZONE), "mean": 1.0, "min": 0.5, "max": 2.0})
    hist = History(SeriesKey("s", "t", Quantity.TEMPERATURE), int(times[0].value),
                   int(times[-1].value), 60, frame)
    text = history_text(hist, "T", "°C", ZONE, "en")
    assert len(text.rows) == MAX_ROWS and text.note is not None
    assert f"{MAX_ROWS + 50}" in text.note
    assert "minimum 0.5" in text.summary and "maximum 2.0" in text.summary
