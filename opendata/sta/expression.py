"""`$filter` evaluation: the odata-query AST, evaluated against one entity at a time.

Entities of the catalogue are few (one per public sensor), so every filter on them runs in
memory. For Observations, `time_bounds` lifts the top-level `phenomenonTime`/`resultTime`
comparisons (and `Datastream/id eq N`) out of the expression and the store query does them;
whatever else the filter says is evaluated here on each reading, and the scan is bounded
(`observations.py`).

Comparisons follow OData: `eq null` matches a missing value; an ordering comparison with a
missing value or a value of another type is false.
"""

from __future__ import annotations

import math
import operator
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from odata_query import ast

from opendata.sta.errors import bad_request
from opendata.sta.graph import Entity
from opendata.sta.instant import Instant, parse_instant
from stadtpuls.timebase import from_ns

Navigate = Callable[[Entity, str], Entity | None]
TIME_PROPERTIES = ("phenomenonTime", "resultTime")
_MISSING = object()

_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
}
_ARITH: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.Mod: operator.mod,
}


def path_of(node: Any) -> tuple[str, ...] | None:
    """`properties/site` as ('properties', 'site'); None for anything but a property path."""
    if isinstance(node, ast.Identifier):
        return (*node.namespace, node.name) if node.namespace else (node.name,)
    if isinstance(node, ast.Attribute):
        owner = path_of(node.owner)
        return None if owner is None else (*owner, node.attr)
    return None


def resolve(entity: Entity, path: tuple[str, ...], navigate: Navigate) -> Any:
    """The value at `path` in `entity`, following single-valued navigation properties."""
    current: Any = entity
    for step in path:
        if isinstance(current, Entity):
            if step == "id":
                current = current.id
            elif step in current.props:
                current = current.props[step]
            else:
                target = navigate(current, step)
                if target is None:
                    return _MISSING
                current = target
        elif isinstance(current, dict):
            current = current.get(step, _MISSING)
        else:
            return _MISSING
        if current is _MISSING:
            return _MISSING
    return current


def evaluate(node: Any, entity: Entity, navigate: Navigate) -> Any:
    """The value of `node` for `entity`; a filter keeps the entity when this is True."""
    if isinstance(node, ast.BoolOp):
        left = evaluate(node.left, entity, navigate) is True
        if isinstance(node.op, ast.And):
            return left and evaluate(node.right, entity, navigate) is True
        return left or evaluate(node.right, entity, navigate) is True
    if isinstance(node, ast.UnaryOp):
        value = evaluate(node.operand, entity, navigate)
        if isinstance(node.op, ast.Not):
            return value is not True
        return -value if _number(value) else None
    if isinstance(node, ast.Compare):
        return _compare(node, entity, navigate)
    if isinstance(node, ast.BinOp):
        a, b = evaluate(node.left, entity, navigate), evaluate(node.right, entity, navigate)
        if not (_number(a) and _number(b)):
            return None
        try:
            return _ARITH[type(node.op)](a, b)
        except ZeroDivisionError:
            return None
    if isinstance(node, ast.Call):
        return _call(node, entity, navigate)
    if isinstance(node, ast.DateTime):
        return _instant(node.val)
    if isinstance(node, ast.Date):
        return _instant(node.val + "T00:00:00Z")
    if isinstance(node, ast.List):
        return [evaluate(v, entity, navigate) for v in node.val]
    if isinstance(node, (ast.Integer, ast.Float, ast.String, ast.Boolean, ast.Null)):
        return node.py_val
    path = path_of(node)
    if path is not None:
        value = resolve(entity, path, navigate)
        return None if value is _MISSING else value
    raise bad_request(f"$filter uses {type(node).__name__}, which this service does not "
                      "evaluate; use comparisons, and/or/not, arithmetic and string, date "
                      "and math functions")


def _compare(node: ast.Compare, entity: Entity, navigate: Navigate) -> bool:
    left = evaluate(node.left, entity, navigate)
    right = evaluate(node.right, entity, navigate)
    if isinstance(node.comparator, ast.In):
        return isinstance(right, list) and left in right
    if isinstance(node.comparator, (ast.Eq, ast.NotEq)):
        equal = (_comparable(left, right) and left == right) or (left is None and right is None)
        return equal if isinstance(node.comparator, ast.Eq) else not equal
    if left is None or right is None or not _comparable(left, right):
        return False
    return _COMPARE[type(node.comparator)](left, right)


def _comparable(a: Any, b: Any) -> bool:
    if isinstance(a, Instant) or isinstance(b, Instant):
        return isinstance(a, Instant) and isinstance(b, Instant)
    if _number(a) and _number(b):
        return True
    return type(a) is type(b)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, (bool, Instant))


def _instant(text: str) -> Instant:
    try:
        return parse_instant(text)
    except (ValueError, OverflowError):
        raise bad_request(f"$filter time {text!r} is not a valid ISO 8601 time") from None


def _call(node: ast.Call, entity: Entity, navigate: Navigate) -> Any:
    name = ".".join((*node.func.namespace, node.func.name))
    args = [evaluate(a, entity, navigate) for a in node.args]
    if name == "now":
        return Instant(time.time_ns())
    function = _FUNCTIONS.get(name)
    if function is None:
        raise bad_request(f"$filter function {name}() is not supported; supported: "
                          f"{', '.join(sorted(_FUNCTIONS))}, now")
    try:
        return function(*args)
    except (TypeError, ValueError, AttributeError, OverflowError):
        return None


def _datepart(attribute: str) -> Callable[[Any], int]:
    def part(value: Any) -> int:
        if not isinstance(value, Instant):
            raise TypeError(attribute)
        return int(getattr(from_ns(int(value)), attribute))
    return part


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "contains": lambda a, b: isinstance(a, str) and isinstance(b, str) and b in a,
    "startswith": lambda a, b: isinstance(a, str) and isinstance(b, str) and a.startswith(b),
    "endswith": lambda a, b: isinstance(a, str) and isinstance(b, str) and a.endswith(b),
    "length": lambda a: len(a) if isinstance(a, str) else None,
    "indexof": lambda a, b: a.find(b) if isinstance(a, str) else None,
    "tolower": lambda a: a.lower() if isinstance(a, str) else None,
    "toupper": lambda a: a.upper() if isinstance(a, str) else None,
    "trim": lambda a: a.strip() if isinstance(a, str) else None,
    "concat": lambda a, b: f"{a}{b}" if isinstance(a, str) and isinstance(b, str) else None,
    "substring": lambda a, b, c=None: (a[b:] if c is None else a[b:b + c])
    if isinstance(a, str) else None,
    "year": _datepart("year"), "month": _datepart("month"), "day": _datepart("day"),
    "hour": _datepart("hour"), "minute": _datepart("minute"), "second": _datepart("second"),
    "round": lambda a: float(round(a)) if _number(a) else None,
    "floor": lambda a: float(math.floor(a)) if _number(a) else None,
    "ceiling": lambda a: float(math.ceil(a)) if _number(a) else None,
}


@dataclass
class Bounds:
    """What the store can do of an Observations filter; `residual` says the rest must run."""

    start_ns: int
    end_ns: int
    datastreams: set[int] | None = None
    residual: bool = False


def time_bounds(node: Any, start_ns: int, end_ns: int) -> Bounds:
    """Narrow [start, end) by the filter's top-level `and`ed time and datastream terms."""
    bounds = Bounds(start_ns, end_ns)
    if node is None:
        return bounds
    for term in _conjuncts(node):
        if not _lift(term, bounds):
            bounds.residual = True
    return bounds


def _conjuncts(node: Any) -> list[Any]:
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
        return _conjuncts(node.left) + _conjuncts(node.right)
    return [node]


_FLIP: dict[type, type] = {ast.Lt: ast.Gt, ast.LtE: ast.GtE, ast.Gt: ast.Lt, ast.GtE: ast.LtE,
                           ast.Eq: ast.Eq}


def _lift(term: Any, bounds: Bounds) -> bool:
    if not isinstance(term, ast.Compare) or type(term.comparator) not in _FLIP:
        return False
    op, left, right = type(term.comparator), term.left, term.right
    if path_of(left) is None:
        op, left, right = _FLIP[op], right, left
    path = path_of(left)
    if path in (("Datastream", "id"),) and op is ast.Eq and isinstance(right, ast.Integer):
        wanted = {int(right.val)}
        bounds.datastreams = wanted if bounds.datastreams is None \
            else bounds.datastreams & wanted
        return True
    if path is None or len(path) != 1 or path[0] not in TIME_PROPERTIES:
        return False
    if not isinstance(right, ast.DateTime):
        return False
    t = int(_instant(right.val))
    if op is ast.Gt:
        bounds.start_ns = max(bounds.start_ns, t + 1)
    elif op is ast.GtE:
        bounds.start_ns = max(bounds.start_ns, t)
    elif op is ast.Lt:
        bounds.end_ns = min(bounds.end_ns, t)
    elif op is ast.LtE:
        bounds.end_ns = min(bounds.end_ns, t + 1)
    else:
        bounds.start_ns, bounds.end_ns = max(bounds.start_ns, t), min(bounds.end_ns, t + 1)
    return True
