"""The `$` query options of a request, parsed and bounded.

`$filter` is parsed by odata-query (gorilla-co, MIT): a maintained lexer and parser for the
OData v4 expression language, which SensorThings' `$filter` is. It has no parser for
`$expand`, `$select` and `$orderby` — those are short lists with no operator grammar, split
here (brackets and quotes respected) and checked against the entity set's properties.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from odata_query.exceptions import ODataException, ParsingException
from odata_query.grammar import ODataLexer, ODataParser

from opendata.sta.errors import bad_request
from opendata.sta.graph import NAVIGATION

DEFAULT_TOP = 100
MAX_TOP = 1000
MAX_SKIP = 100_000
MAX_FILTER_CHARS = 2000
MAX_EXPAND_DEPTH = 3
MAX_EXPAND_ITEMS = 8
KNOWN = ("$top", "$skip", "$count", "$orderby", "$select", "$expand", "$filter", "$skiptoken",
         "$resultFormat")


@dataclass(frozen=True)
class Order:
    path: tuple[str, ...]
    descending: bool


@dataclass
class Query:
    """Options for one collection (or one entity) and, nested, for each `$expand`ed nav."""

    top: int = DEFAULT_TOP
    skip: int = 0
    count: bool = False
    orderby: list[Order] = field(default_factory=list)
    select: list[str] | None = None
    selected: frozenset[str] | None = None  # `select` as a set, for rendering
    expand: dict[str, Query] = field(default_factory=dict)
    filter: Any = None  # odata_query AST node
    filter_text: str | None = None
    skiptoken: str | None = None
    raw: dict[str, str] = field(default_factory=dict)


def parse_query(args: dict[str, str], entity_set: str, depth: int = 0) -> Query:
    """Options as given in a URL (or inside `$expand=Nav(...)`) for `entity_set`."""
    unknown = [k for k in args if k.startswith("$") and k not in KNOWN]
    if unknown:
        raise bad_request(f"unknown query option {unknown[0]}; known: {', '.join(KNOWN[:7])}")
    q = Query(raw=dict(args))
    if "$resultFormat" in args:
        raise bad_request("$resultFormat is not supported; the default JSON format only")
    if "$top" in args:
        q.top = _int(args["$top"], "$top", 0, MAX_TOP)
    if "$skip" in args:
        q.skip = _int(args["$skip"], "$skip", 0, MAX_SKIP)
    if "$count" in args:
        value = args["$count"].strip().lower()
        if value not in ("true", "false"):
            raise bad_request(f"$count must be true or false, not {args['$count']!r}")
        q.count = value == "true"
    if "$orderby" in args:
        q.orderby = [_order(item) for item in split_top(args["$orderby"], ",")]
    if "$select" in args:
        q.select = [s.strip() for s in split_top(args["$select"], ",") if s.strip()]
        if not q.select:
            raise bad_request("$select is empty; name at least one property")
        q.selected = frozenset(q.select)
    if "$filter" in args:
        q.filter_text = args["$filter"]
        q.filter = parse_filter(args["$filter"])
    if "$expand" in args:
        q.expand = _expand(args["$expand"], entity_set, depth)
    q.skiptoken = args.get("$skiptoken")
    return q


def parse_filter(text: str) -> Any:
    if len(text) > MAX_FILTER_CHARS:
        raise bad_request(f"$filter is {len(text)} characters long; at most "
                          f"{MAX_FILTER_CHARS} are accepted")
    # SensorThings writes the id as `@iot.id` (or `id`); the OData grammar knows only the latter.
    text = text.replace("@iot.id", "id")
    try:
        return ODataParser().parse(ODataLexer().tokenize(text))
    except ParsingException as exc:
        where = (f"at {exc.token.value!r} (character {exc.token.index + 1})"
                 if exc.token is not None and not exc.eof else "at its end")
        raise bad_request(f"$filter cannot be parsed {where}; see the OData $filter "
                          "syntax, e.g. result gt 5 and phenomenonTime ge 2025-01-01T00:00:00Z"
                          ) from None
    except ODataException as exc:
        raise bad_request(f"$filter cannot be parsed: {exc}") from None
    except (ValueError, TypeError, IndexError, RecursionError) as exc:
        raise bad_request(f"$filter cannot be parsed: {type(exc).__name__}") from None


def split_top(text: str, sep: str) -> list[str]:
    """Split at `sep` outside brackets and quoted strings."""
    parts: list[str] = []
    depth, start, quoted = 0, 0, False
    for i, ch in enumerate(text):
        if ch == "'":
            quoted = not quoted
        elif quoted:
            continue
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise bad_request(f"unbalanced ')' in {text[:80]!r}")
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth or quoted:
        raise bad_request(f"unbalanced brackets or quotes in {text[:80]!r}")
    parts.append(text[start:])
    return parts


def _int(text: str, name: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise bad_request(f"{name} must be a whole number, not {text[:40]!r}") from None
    if not low <= value <= high:
        raise bad_request(f"{name} must be between {low} and {high}, not {value}")
    return value


def _order(item: str) -> Order:
    words = item.split()
    if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
        raise bad_request(f"$orderby item {item.strip()!r} must be 'property [asc|desc]'")
    path = tuple(p for p in words[0].replace("@iot.id", "id").split("/") if p)
    return Order(path, len(words) == 2 and words[1] == "desc")


def _expand(text: str, entity_set: str, depth: int) -> dict[str, Query]:
    if depth >= MAX_EXPAND_DEPTH:
        raise bad_request(f"$expand is nested deeper than {MAX_EXPAND_DEPTH} levels")
    items = [s.strip() for s in split_top(text, ",") if s.strip()]
    if len(items) > MAX_EXPAND_ITEMS:
        raise bad_request(f"$expand names {len(items)} navigation properties; at most "
                          f"{MAX_EXPAND_ITEMS} per level")
    out: dict[str, Query] = {}
    for item in items:
        options: dict[str, str] = {}
        if item.endswith(")") and "(" in item:
            head, _, inner = item.partition("(")
            for opt in split_top(inner[:-1], ";"):
                key, eq, value = opt.strip().partition("=")
                if not eq:
                    raise bad_request(f"$expand option {opt.strip()!r} must be $name=value")
                options[key.strip()] = value
            item = head.strip()
        first, _, rest = item.partition("/")
        nav = NAVIGATION[entity_set].get(first)
        if nav is None:
            raise bad_request(f"{entity_set} has no navigation property {first!r} to expand; "
                              f"known: {', '.join(NAVIGATION[entity_set])}")
        if rest:  # `Datastreams/Observations` is `Datastreams($expand=Observations(...))`
            nested = f"{rest}({';'.join(f'{k}={v}' for k, v in options.items())})" \
                if options else rest
            options = {"$expand": nested}
        sub = parse_query(options, nav.target, depth + 1)
        if first in out:  # `Datastreams/Sensor,Datastreams/Thing` merge into one expand
            out[first].expand.update(sub.expand)
        else:
            out[first] = sub
    return out
