"""Serving one bulk file: checks, caching headers, the cached or streamed body.

Answers: 404 for sensors that are not public (the same text as for unknown ones), 400 for
malformed dates, 404 for the future and before the first reading, 413 above `MAX_ROWS`,
304 when the client's ETag still matches, 503 while the store is down. Files of closed
periods are cached for a year by clients (`immutable`) and here in a `FileCache`; the
current period's for a minute. A store that fails after the first rows ends the download
early (the status line has left); the fingerprint query just before makes that rare.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import Response, request

from opendata import urls
from opendata.csv_files import fingerprint, header, rows
from opendata.datasets import Dataset, find_dataset
from opendata.file_cache import FileCache
from opendata.periods import Period, PeriodError, check_available, parse_period
from opendata.source import Source, coverage, now_ns
from stadtpuls.store.errors import StoreError

MAX_ROWS = 500_000
"""About 20 MB of CSV: a month of 10-second data; for denser series take the day files."""
CLOSED_CACHE_CONTROL = "public, max-age=31536000, immutable"
OPEN_CACHE_CONTROL = "public, max-age=60"
_FINGERPRINT_TTL_S = {True: 3600.0, False: 10.0}


def text(status: int, message: str, **headers: str) -> Response:
    """A one-line plain-text answer (error pages are for people and scripts alike)."""
    response = Response(message + "\n", status=status, mimetype="text/plain")
    response.headers.update(headers)
    return response


def shown(value: str, limit: int = 80) -> str:
    """A path part echoed in an answer, cut to `limit` characters (answers stay short)."""
    return value if len(value) <= limit else value[:limit] + "…"


def not_public(site: str, sensor: str) -> Response:
    return text(404, f"no public dataset {shown(site)}/{shown(sensor)}; the published ones "
                f"are listed at {urls.LANDING} and in {urls.CATALOG}.ttl")


def store_down(exc: StoreError) -> Response:
    return text(503, f"the data store cannot answer right now ({exc}); try again in a "
                "minute", **{"Retry-After": "60"})


def serve_file(source: Source, cache: FileCache, base_url: str, site: str, sensor: str,
               name: str) -> Response:
    dataset = find_dataset(source.catalogue, site, sensor)
    if dataset is None:
        return not_public(site, sensor)
    label, dot, extension = name.rpartition(".")
    if not dot or extension != "csv":
        return text(404, f"{shown(name)!r} is not a file we serve; files are YYYY-MM-DD.csv "
                    f"(a day) or YYYY-MM.csv (a month), listed at {urls.files_index(dataset)}")
    if len(label) > 10:
        return text(400, f"{shown(label)!r} is not a file name we serve; use YYYY-MM-DD.csv "
                    "for a day or YYYY-MM.csv for a month")
    try:
        period = parse_period(label, dataset.site.timezone)
        span = coverage(source, dataset)
        now = now_ns(source)
        check_available(period, now, span[0] if span else None)
    except PeriodError as exc:
        return text(exc.status, str(exc))
    except StoreError as exc:
        return store_down(exc)
    closed = period.is_closed(now)
    head = header(dataset, period, _attribution(source, dataset),
                  base_url + urls.file_path(dataset, label))
    try:
        count, etag = source.reader.memo(
            ("opendata.fingerprint", dataset.key, label, head),
            lambda: fingerprint(source.reader.store, dataset, period, head),
            _FINGERPRINT_TTL_S[closed])
    except StoreError as exc:
        return store_down(exc)
    if count > MAX_ROWS:
        return text(413, f"{dataset.slug} has {count:,} readings in {label}, more than the "
                    f"{MAX_ROWS:,} one file may hold; download its days "
                    f"({urls.file_path(dataset, period.days()[0].label)} and so on)")
    headers = {
        "ETag": etag,
        "Cache-Control": CLOSED_CACHE_CONTROL if closed else OPEN_CACHE_CONTROL,
        "Access-Control-Allow-Origin": "*",
        "Content-Disposition": f'attachment; filename="{dataset.site_id}_'
                               f'{dataset.sensor.id}_{label}.csv"',
    }
    if etag in request.if_none_match or _weak_match(etag):
        return Response(status=304, headers=headers)
    key = (dataset.key, label, etag)
    cached = cache.get(key) if closed else None
    if cached is not None:
        return _csv(cached, headers)
    body = _stream(source, dataset, period, head, cache if closed else None, key)
    return _csv(body, headers)


def _weak_match(etag: str) -> bool:
    # If-None-Match compares weakly (RFC 9110 §13.1.2); werkzeug parses W/ tags apart.
    return etag.removeprefix("W/").strip('"') in request.if_none_match.as_set(
        include_weak=True)


def _csv(body: bytes | Iterator[bytes], headers: dict[str, str]) -> Response:
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8; header=present"
    response.headers.update(headers)
    return response


def _attribution(source: Source, dataset: Dataset) -> str:
    meta = source.catalogue.open_data
    return meta.attribution if meta else dataset.site.name.de


def _stream(source: Source, dataset: Dataset, period: Period, head: str,
            cache: FileCache | None, key: tuple[object, ...]) -> Iterator[bytes]:
    """Header, then rows page by page; a complete file small enough is kept in `cache`."""
    first = head.encode()
    yield first
    kept: list[bytes] | None = [first] if cache is not None else None
    size, limit = len(first), cache.max_file_bytes if cache is not None else 0
    for chunk in rows(source.reader.store, dataset, period):
        yield chunk
        if kept is not None:
            kept.append(chunk)
            size += len(chunk)
            if size > limit:
                kept = None  # too large to keep: streamed from the store each time
    if kept is not None and cache is not None:
        cache.put(key, b"".join(kept))
