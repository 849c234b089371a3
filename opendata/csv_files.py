"""A bulk file: a header that says what the numbers are and under which licence, then rows.

    # Stadtpuls open data — PV-Leistung Fassade Nordost – Rathaus im Stühlinger
    # dataset: stuehlinger/pv_facade_ne_power (quantity power)
    # unit: W (UCUM: W)
    # period: 2026-11-28, local day in Europe/Berlin (2026-11-27T23:00:00Z … 2026-11-28T23:00:00Z)
    # licence: Datenlizenz Deutschland – Namensnennung – Version 2.0 (dl-de/by-2-0), https://…
    # attribution: Stadt Freiburg im Breisgau, Stadtpuls
    # source: https://…/opendata/files/stuehlinger/pv_facade_ne_power/2026-11-28.csv
    # columns: time = UTC, RFC 3339, up to nanoseconds; value = in W; implausible = ...
    time,value,implausible
    2026-11-27T23:00:07Z,0.0,false

Comment lines start with `#` (pandas: `comment="#"`, R: `comment.char="#"`). Values are the
stored ones, in the quantity's canonical unit, written shortest-exact (`repr`), so a file
reads back to the very same floats. Rows come from the store page by page, so a month of
1-minute data streams in bounded memory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date
from functools import lru_cache

from opendata.datasets import Dataset
from opendata.periods import Period
from stadtpuls.reading import Reading
from stadtpuls.store.protocol import Aggregate, StoreReader
from stadtpuls.timebase import NS_PER_S

PAGE = 10_000
COLUMNS = "time,value,implausible"


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@lru_cache(maxsize=1024)
def _day(days_since_epoch: int) -> str:
    return date.fromordinal(_EPOCH_ORDINAL + days_since_epoch).isoformat()


def iso_ns(time_ns: int) -> str:
    """RFC 3339 UTC with as many fraction digits as the time needs (none to nine).

    Integer arithmetic and one date per day (cached): strftime per row was a third of the
    time of a month file.
    """
    seconds, fraction = divmod(time_ns, NS_PER_S)
    days, second = divmod(seconds, 86_400)
    hours, rest = divmod(second, 3_600)
    minutes, secs = divmod(rest, 60)
    text = f"{_day(days)}T{hours:02d}:{minutes:02d}:{secs:02d}"
    if fraction:
        text += "." + f"{fraction:09d}".rstrip("0")
    return text + "Z"


def header(dataset: Dataset, period: Period, attribution: str, source_url: str) -> str:
    pub = dataset.publication
    kind = "local month" if period.is_month else "local day"
    lines = [
        f"Stadtpuls open data — {dataset.title('de')} / {dataset.title('en')}",
        f"dataset: {dataset.slug} (quantity {dataset.sensor.quantity.value})",
        f"unit: {dataset.unit} (UCUM: {dataset.ucum})",
        f"period: {period.label}, {kind} in {period.zone} "
        f"({iso_ns(period.start_ns)} … {iso_ns(period.end_ns)})",
        f"licence: {pub.licence_name} ({pub.licence}), {pub.licence_text_url}",
        f"attribution: {attribution}",
        f"source: {source_url}",
        f"columns: time = UTC, RFC 3339, up to nanoseconds; value = in {dataset.unit}; "
        "implausible = true when outside the sensor's plausible range "
        f"({dataset.sensor.plausible.min:g} … {dataset.sensor.plausible.max:g})",
    ]
    # One line each whatever the catalogue text holds: a newline would end the comment.
    return "".join("# " + " ".join(line.split()) + "\n" for line in lines) + COLUMNS + "\n"


def row(reading: Reading) -> str:
    return (f"{iso_ns(reading.time_ns)},{reading.value!r},"
            f"{'true' if reading.implausible else 'false'}\n")


def rows(store: StoreReader, dataset: Dataset, period: Period) -> Iterator[bytes]:
    """The period's readings as CSV rows, one chunk per store page, oldest first."""
    start = period.start_ns
    while True:
        page = store.readings(dataset.key, start, period.end_ns, limit=PAGE)
        if page:
            yield "".join(row(r) for r in page).encode()
        if len(page) < PAGE:
            return
        start = page[-1].time_ns + 1


def fingerprint(store: StoreReader, dataset: Dataset, period: Period,
                head: str) -> tuple[int, str]:
    """(number of readings, ETag) of the period's file, from one aggregate query.

    The tag covers the header and the count, sum, extremes and last value of the readings:
    a new, removed or corrected reading changes it. It is a weak tag (a fingerprint, not a
    hash of the bytes) and lets a revalidation answer 304 without reading any rows.
    """
    window = period.end_ns - period.start_ns
    found = store.aggregate([dataset.key], period.start_ns, period.end_ns, window,
                            [Aggregate.COUNT, Aggregate.SUM, Aggregate.MIN, Aggregate.MAX,
                             Aggregate.LAST], offset_ns=period.start_ns % window)
    digest = hashlib.sha256(head.encode())
    count = 0
    series = found.get(dataset.key)
    if series is not None:
        count = int(sum(series.values[Aggregate.COUNT]))
        for aggregate in (Aggregate.SUM, Aggregate.MIN, Aggregate.MAX, Aggregate.LAST):
            digest.update(repr(series.values[aggregate]).encode())
    digest.update(str(count).encode())
    return count, f'W/"{digest.hexdigest()[:32]}"'
