"""`InfluxStore`: writes through the v2 write API, reads with InfluxQL on `/query`.

Both endpoints are served by InfluxDB 1.8+, 2.x, 3.x and Cloud (ARCHITECTURE.md §3). Writes use
influxdb-client's synchronous API with our own batches, because its batching mode loses
buffered points on exit. Reads bind every user value as a query parameter.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from typing import Any

import urllib3
from influxdb_client.client.exceptions import InfluxDBError
from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.domain.write_precision import WritePrecision
from influxdb_client.rest import ApiException

from stadtpuls.reading import Reading, SeriesKey
from stadtpuls.state.rows import StateRow, newest_snapshots
from stadtpuls.store import state_codec
from stadtpuls.store.errors import StoreRejected, StoreUnavailable
from stadtpuls.store.influx_rollups import InfluxRollups, where_clause
from stadtpuls.store.line_protocol import encode_lines, quote_ident
from stadtpuls.store.protocol import Aggregate, WindowSeries
from stadtpuls.units import Quantity

_MEASUREMENTS = "|".join(q.value for q in Quantity)
_KEYS_PER_QUERY = 250
"""Series named in one query's WHERE (two bound parameters each)."""


class InfluxStore(InfluxRollups):
    """A `Store` on InfluxDB. `bucket` is `db/rp` on 1.x, the bucket name on 2.x/3.x."""

    parallel_parts = True

    def __init__(
        self,
        url: str,
        bucket: str,
        *,
        token: str = "",
        org: str = "",
        timeout_s: float = 10.0,
        batch_size: int = 5_000,
        retries: int = 3,
        backoff_s: float = 0.2,
    ) -> None:
        self.url = url.rstrip("/")
        self.bucket = bucket
        self.database, _, rp = bucket.partition("/")
        self.retention_policy = rp or None
        self._token = token
        self._org = org or "-"
        self._batch_size = batch_size
        self._retries = retries
        self._backoff_s = backoff_s
        self._client = InfluxDBClient(url=self.url, token=token or "-", org=self._org,
                                      timeout=int(timeout_s * 1000))
        self._writer = self._client.write_api(write_options=SYNCHRONOUS)
        self._http = urllib3.PoolManager(
            num_pools=2, maxsize=8, retries=False,
            timeout=urllib3.Timeout(connect=min(timeout_s, 5.0), read=timeout_s),
        )

    # -- writes ---------------------------------------------------------------------------

    def write(self, readings: Sequence[Reading]) -> None:
        for start in range(0, len(readings), self._batch_size):
            body = encode_lines(readings[start:start + self._batch_size])
            self._write_with_retries(body)

    def _write_with_retries(self, body: str) -> None:
        delay = self._backoff_s
        for attempt in range(self._retries + 1):
            try:
                self._writer.write(bucket=self.bucket, org=self._org, record=body,
                                   write_precision=WritePrecision.NS)  # type: ignore[arg-type]
                return
            except ApiException as exc:
                error = self._translate(int(exc.status or 0),
                                        _error_text(exc.body) or exc.reason or "")
            except InfluxDBError as exc:
                status = getattr(exc.response, "status", 0) if exc.response is not None else 0
                error = self._translate(int(status or 0), str(exc.message)[:300])
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                error = StoreUnavailable(
                    f"InfluxDB at {self.url} is unreachable ({type(exc).__name__}); check that "
                    "it runs and STADTPULS_INFLUX_URL points to it"
                )
            except Exception as exc:
                # Anything else the client raises says nothing about the data we sent (that
                # is what HTTP 400 is for): keep the readings and try again later.
                error = StoreUnavailable(f"InfluxDB client failed ({type(exc).__name__}: "
                                         f"{str(exc)[:200]}); will retry")
            if isinstance(error, StoreRejected) or attempt == self._retries:
                raise error
            time.sleep(delay)
            delay *= 2

    def _translate(self, status: int, detail: str) -> StoreUnavailable | StoreRejected:
        if status in (401, 403):
            return StoreUnavailable(
                f"InfluxDB at {self.url} refused the token (HTTP {status}); check "
                "STADTPULS_INFLUX_TOKEN or STADTPULS_INFLUX_TOKEN_FILE"
            )
        if status == 404:
            return StoreUnavailable(
                f"InfluxDB at {self.url} has no bucket {self.bucket!r} ({detail}); create it "
                "or set STADTPULS_INFLUX_BUCKET"
            )
        if status in (400, 413, 422):
            return StoreRejected(f"InfluxDB refused the data (HTTP {status}): {detail}")
        return StoreUnavailable(f"InfluxDB at {self.url} answered HTTP {status}: {detail}; "
                                "will retry")

    # -- reads ----------------------------------------------------------------------------

    def latest(
        self, site: str | None = None, since_ns: int | None = None,
        until_ns: int | None = None, *, keys: Sequence[SeriesKey] | None = None,
    ) -> dict[SeriesKey, Reading]:
        if keys is not None and not keys:
            return {}
        out: dict[SeriesKey, Reading] = {}
        chunks = [keys[i:i + _KEYS_PER_QUERY] for i in range(0, len(keys), _KEYS_PER_QUERY)] \
            if keys is not None else [()]
        for chunk in chunks:
            where, params = where_clause(keys=chunk, site=site, start_ns=since_ns,
                                         end_ns=until_ns)
            q = (f'SELECT last("value") AS "value", "implausible", "unregistered" '
                 f"FROM /^({_MEASUREMENTS})$/ {where} GROUP BY \"site\", \"sensor\"")
            self._latest_into(out, q, params)
        return out

    def _latest_into(self, out: dict[SeriesKey, Reading], q: str, params: dict[str, Any]
                     ) -> None:
        for series in self._series(self._query(q, params)):
            tags = series.get("tags", {})
            cols = series["columns"]
            for row in series["values"]:
                rec = dict(zip(cols, row, strict=True))
                reading = Reading(
                    tags["site"], tags["sensor"], Quantity(series["name"]), int(rec["time"]),
                    float(rec["value"]), bool(rec.get("implausible")),
                    bool(rec.get("unregistered")),
                )
                out[reading.key] = reading

    def _raw_aggregate(
        self, series: Sequence[SeriesKey], start_ns: int, end_ns: int, window_ns: int,
        aggregates: Sequence[Aggregate], offset_ns: int, exclude_implausible: bool,
    ) -> dict[SeriesKey, WindowSeries]:
        by_quantity: dict[Quantity, list[SeriesKey]] = {}
        for key in dict.fromkeys(series):
            by_quantity.setdefault(key.quantity, []).append(key)
        cols = ", ".join(f'{a.value}("value") AS "{a.value}"' for a in aggregates)
        # InfluxQL wants a duration literal here; the offset is normalised into [0, window).
        group = f"GROUP BY time({window_ns}ns, {offset_ns % window_ns}ns), \"site\", \"sensor\""
        out: dict[SeriesKey, WindowSeries] = {}
        for quantity, keys in by_quantity.items():
            where, params = where_clause(keys=keys, start_ns=start_ns, end_ns=end_ns,
                                   plausible_only=exclude_implausible)
            q = (f"SELECT {cols} FROM {quote_ident(quantity.value)} "
                 f"{where} {group} fill(none)")
            for s in self._series(self._query(q, params)):
                key = SeriesKey(s["tags"]["site"], s["tags"]["sensor"], quantity)
                idx = {c: i for i, c in enumerate(s["columns"])}
                result = WindowSeries(values={a: [] for a in aggregates})
                for row in s["values"]:
                    result.times.append(int(row[0]))
                    for a in aggregates:
                        result.values[a].append(float(row[idx[a.value]]))
                out[key] = result
        return out

    def counts(
        self, start_ns: int, end_ns: int, site: str | None = None
    ) -> dict[SeriesKey, int]:
        where, params = where_clause(site=site, start_ns=start_ns, end_ns=end_ns)
        q = (f'SELECT count("value") AS "count" FROM /^({_MEASUREMENTS})$/ {where} '
             'GROUP BY "site", "sensor"')
        out: dict[SeriesKey, int] = {}
        for s in self._series(self._query(q, params)):
            key = SeriesKey(s["tags"]["site"], s["tags"]["sensor"], Quantity(s["name"]))
            out[key] = int(s["values"][0][1])
        return out

    def readings(
        self, series: SeriesKey, start_ns: int, end_ns: int, *, limit: int,
        descending: bool = False,
    ) -> list[Reading]:
        if not 0 < limit <= 1_000_000:
            raise ValueError(f"limit must be between 1 and 1000000, not {limit}")
        where, params = where_clause(keys=[series], start_ns=start_ns, end_ns=end_ns)
        # LIMIT takes no bound parameter in InfluxQL; `limit` is a checked int, not text.
        q = (f'SELECT "value", "implausible", "unregistered" FROM '
             f"{quote_ident(series.quantity.value)} {where} "
             f"ORDER BY time {'DESC' if descending else 'ASC'} LIMIT {int(limit)}")
        out: list[Reading] = []
        for s in self._series(self._query(q, params)):
            idx = {c: i for i, c in enumerate(s["columns"])}
            for row in s["values"]:
                out.append(Reading(series.site, series.sensor, series.quantity, int(row[0]),
                                   float(row[idx["value"]]), bool(row[idx["implausible"]]),
                                   bool(row[idx["unregistered"]])))
        return out
    # -- sensor state snapshots (stadtpuls.state) ------------------------------------------

    def write_states(self, rows: Sequence[StateRow]) -> None:
        by_client: dict[str, list[StateRow]] = {}
        for row in rows:
            by_client.setdefault(row.client, []).append(row)
        for client_rows in by_client.values():
            self._write_with_retries(state_codec.lines(client_rows))

    def read_states(self, since_ns: int) -> list[StateRow]:
        # Points sit at the start of their UTC day; `at` says when the snapshot was taken.
        day = since_ns // state_codec.DAY_NS * state_codec.DAY_NS
        q = (f'SELECT "data", "client" FROM {quote_ident(state_codec.MEASUREMENT)} '
             'WHERE time >= $day AND "at" >= $since')
        rows: list[StateRow] = []
        for s in self._series(self._query(q, {"day": day, "since": since_ns})):
            cols = s["columns"]
            data_at, client_at = cols.index("data"), cols.index("client")
            for values in s["values"]:
                rows += state_codec.from_part(str(values[client_at]), str(values[data_at]))
        return newest_snapshots(rows)

    def _query(self, q: str, params: dict[str, Any]) -> dict[str, Any]:
        fields = {"db": self.database, "q": q, "epoch": "ns", "params": json.dumps(params)}
        if self.retention_policy:
            fields["rp"] = self.retention_policy
        headers = {"Authorization": f"Token {self._token}"} if self._token else {}
        try:
            try:
                resp = self._http.request("POST", f"{self.url}/query", fields=fields,
                                          headers=headers, encode_multipart=False)
            except urllib3.exceptions.ProtocolError:
                # A pooled keep-alive connection the server closed fails on reuse; a query
                # is idempotent, so one more try on a fresh connection is safe.
                resp = self._http.request("POST", f"{self.url}/query", fields=fields,
                                          headers=headers, encode_multipart=False)
        except urllib3.exceptions.HTTPError as exc:
            raise StoreUnavailable(
                f"InfluxDB at {self.url} is unreachable ({type(exc).__name__}); check that it "
                "runs and STADTPULS_INFLUX_URL points to it"
            ) from None
        try:
            body: dict[str, Any] = json.loads(resp.data or b"{}")
        except ValueError:
            body = {}
        error = body.get("error") or next(
            (r["error"] for r in body.get("results", []) if "error" in r), None
        )
        if resp.status >= 500 or resp.status in (401, 403, 404):
            raise StoreUnavailable(f"InfluxDB query failed (HTTP {resp.status}): {error}")
        if error:
            if "database not found" in error:
                return {"results": []}
            raise StoreRejected(f"InfluxDB rejected the query: {error}")
        return body

    @staticmethod
    def _series(body: dict[str, Any]) -> Iterable[dict[str, Any]]:
        for result in body.get("results", []):
            yield from result.get("series", [])

    def close(self) -> None:
        self._writer.close()  # type: ignore[no-untyped-call]
        self._client.close()  # type: ignore[no-untyped-call]
        self._http.clear()


def _error_text(body: object) -> str:
    if not body:
        return ""
    text = body.decode(errors="replace") if isinstance(body, bytes) else str(body)
    try:
        parsed = json.loads(text)
    except ValueError:
        return text.strip()[:300]
    if isinstance(parsed, dict):
        return str(parsed.get("error") or parsed.get("message") or text)[:300]
    return text[:300]
