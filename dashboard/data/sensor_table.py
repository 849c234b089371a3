"""The sensors table on the server: filter, sort and cut one page of `SensorState`s.

The browser's grid asks for rows startRow..endRow with AG Grid's sort and filter models
(infinite row model); this answers with those rows and the total, so the browser holds one
page whatever the number of sensors. The states are computed once per refresh bucket and
shared by every viewer (`status.sensor_states_shared`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dashboard.data.status import SEVERITY, SensorState

MAX_PAGE = 500
"""Rows one request may ask for (the grid asks for one block of `PAGE_SIZE`)."""
RANK = {s: i for i, s in enumerate(SEVERITY)}


@dataclass(frozen=True)
class Labels:
    """Texts a row is searched, filtered and sorted by, in the viewer's language."""

    name: Callable[[SensorState], str]
    site: Callable[[SensorState], str]
    quantity: Callable[[SensorState], str]


def _number(s: SensorState, col: str) -> float | None:
    if col == "age_s":
        return s.age_s
    if col == "completeness":
        return None if s.completeness is None else round(s.completeness * 100, 1)
    if col == "battery":
        return s.battery
    if col == "rssi":
        return s.rssi
    return None


def _text(s: SensorState, col: str, labels: Labels) -> str:
    if col == "name":
        return labels.name(s)
    if col == "site":
        return labels.site(s)
    if col == "quantity":
        return labels.quantity(s)
    return ""


_TEXT_OPS: dict[str, Callable[[str, str], bool]] = {
    "contains": lambda v, f: f in v,
    "notContains": lambda v, f: f not in v,
    "equals": lambda v, f: v == f,
    "notEqual": lambda v, f: v != f,
    "startsWith": lambda v, f: v.startswith(f),
    "endsWith": lambda v, f: v.endswith(f),
}
_NUMBER_OPS: dict[str, Callable[[float, float, float], bool]] = {
    "equals": lambda v, a, _b: v == a,
    "notEqual": lambda v, a, _b: v != a,
    "lessThan": lambda v, a, _b: v < a,
    "lessThanOrEqual": lambda v, a, _b: v <= a,
    "greaterThan": lambda v, a, _b: v > a,
    "greaterThanOrEqual": lambda v, a, _b: v >= a,
    "inRange": lambda v, a, b: a <= v <= b,
}


def _condition(cond: Mapping[str, Any], col: str, labels: Labels
               ) -> Callable[[SensorState], bool]:
    """One AG Grid filter condition (text or number) as a predicate; unknown ones pass."""
    kind = cond.get("type")
    if cond.get("filterType") == "number":
        def value(s: SensorState) -> float | None:
            return _number(s, col)

        if kind == "blank":
            return lambda s: value(s) is None
        if kind == "notBlank":
            return lambda s: value(s) is not None
        op = _NUMBER_OPS.get(str(kind))
        try:
            a = float(cond.get("filter"))  # type: ignore[arg-type]
            b = float(cond.get("filterTo", a))
        except (TypeError, ValueError):
            return lambda _s: True
        if op is None:
            return lambda _s: True
        return lambda s: (v := value(s)) is not None and op(v, a, b)
    needle = str(cond.get("filter") or "").casefold()
    if kind == "blank":
        return lambda s: not _text(s, col, labels)
    if kind == "notBlank":
        return lambda s: bool(_text(s, col, labels))
    text_op = _TEXT_OPS.get(str(kind))
    if text_op is None:
        return lambda _s: True
    return lambda s: text_op(_text(s, col, labels).casefold(), needle)


def _column_filter(model: Mapping[str, Any], col: str, labels: Labels
                   ) -> Callable[[SensorState], bool]:
    conditions = model.get("conditions")
    if not conditions:
        return _condition(model, col, labels)
    preds = [_condition(c, col, labels) for c in conditions[:2]]
    if model.get("operator") == "OR":
        return lambda s: any(p(s) for p in preds)
    return lambda s: all(p(s) for p in preds)


def select(states: Sequence[SensorState], labels: Labels, *, site: str | None = None,
           statuses: Sequence[str] = (), search: str = "",
           filter_model: Mapping[str, Any] | None = None) -> list[SensorState]:
    """The states the page's pickers, search box and column filters let through."""
    wanted = set(statuses)
    needle = search.strip().casefold()
    preds = [_column_filter(m, col, labels) for col, m in (filter_model or {}).items()
             if isinstance(m, Mapping)]
    out = []
    for s in states:
        if site and s.site != site:
            continue
        if wanted and s.status.value not in wanted:
            continue
        if needle and needle not in (f"{labels.name(s)} {s.site}/{s.sensor_id} "
                                     f"{labels.site(s)} {labels.quantity(s)}").casefold():
            continue
        if all(p(s) for p in preds):
            out.append(s)
    return out


def order(states: list[SensorState], labels: Labels,
          sort_model: Sequence[Mapping[str, Any]] | None) -> list[SensorState]:
    """Sorted by the grid's sort model (stable, last key first); blanks always last."""
    out = list(states)
    for item in reversed(list(sort_model or [])):
        col = str(item.get("colId", ""))
        desc = item.get("sort") == "desc"
        if col == "status_label":
            out.sort(key=lambda s: RANK[s.status], reverse=desc)
        elif col in ("name", "site", "quantity"):
            out.sort(key=lambda s, c=col: _text(s, c, labels).casefold(),  # type: ignore[misc]
                     reverse=desc)
        elif col in ("age_s", "completeness", "battery", "rssi"):
            present = [s for s in out if _number(s, col) is not None]
            blank = [s for s in out if _number(s, col) is None]
            present.sort(key=lambda s, c=col: _number(s, c) or 0.0,  # type: ignore[misc]
                         reverse=desc)
            out = present + blank
    return out


def page_of(states: list[SensorState], start: Any, end: Any) -> list[SensorState]:
    """Rows [start, end), bounded to `MAX_PAGE` whatever the request says."""
    try:
        first = max(0, int(start))
        last = min(int(end), first + MAX_PAGE)
    except (TypeError, ValueError):
        first, last = 0, 0
    return states[first:last]
