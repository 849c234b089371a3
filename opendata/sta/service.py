"""Resource paths, collections and entities of the SensorThings service (no HTTP here).

`Service.answer(path, args, base)` turns a request into a JSON-ready answer; `routes.py`
is the Flask side. Bounds: `$top` ≤ 1000 (default 100, also inside `$expand`), `$expand`
3 levels deep, `$filter` 2000 characters, at most `MAX_ENTITIES` entities per response,
at most `observations.MAX_SCAN` readings read per request.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from opendata.sta import observations as obs
from opendata.sta.errors import bad_request, not_found
from opendata.sta.expression import evaluate, time_bounds
from opendata.sta.first_times import FirstTimes
from opendata.sta.forms import (
    absolute,
    dumps,
    lit,
    next_link,
    parse_id,
    plain_observation,
    sorted_by,
    to_json,
)
from opendata.sta.graph import (
    ENTITY_SETS,
    NAVIGATION,
    Entity,
    Graph,
    build_graph,
    historical_links,
    historical_locations,
)
from opendata.sta.ids import parse_observation_id
from opendata.sta.query import Query, parse_query
from stadtpuls.catalogue import Catalogue
from stadtpuls.store.protocol import StoreReader
from stadtpuls.timebase import MAX_NS, MIN_NS

CONFORMANCE = [
    "http://www.opengis.net/spec/iot_sensing/1.1/req/datamodel",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/resource-path/resource-path-to-entities",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/request-data",
]
MAX_ENTITIES = 20_000
_SEGMENT = re.compile(r"^([A-Za-z]+)(?:\((.*)\))?$")


@dataclass
class Answer:
    body: Any
    content_type: str = "application/json"


@dataclass
class _Ctx:
    base: str  # absolute URL of the service root, no trailing slash
    spent: int = 0

    def spend(self, n: int = 1) -> None:
        self.spent += n
        if self.spent > MAX_ENTITIES:
            raise bad_request(f"the response would hold more than {MAX_ENTITIES} entities; "
                              "lower $top, or $top inside $expand")


@dataclass
class _Coll:
    set: str
    parent: Entity | None = None
    nav: str | None = None


@dataclass
class Service:
    store: StoreReader
    catalogue: Catalogue
    clock: Callable[[], float] = time.monotonic
    wall_ns: Callable[[], int] = time.time_ns
    graph: Graph = field(init=False)
    first_times: FirstTimes = field(init=False)

    def __post_init__(self) -> None:
        self.graph = build_graph(self.catalogue)
        self.first_times = FirstTimes(self.store, self.graph.series, self.clock)

    # -- requests -----------------------------------------------------------------------

    def answer(self, path: str, args: dict[str, str], base: str) -> Answer:
        ctx = _Ctx(base.rstrip("/"))
        segments = [s for s in path.split("/") if s]
        if not segments:
            return Answer({"value": [{"name": s, "url": f"{ctx.base}/{s}"}
                                     for s in ENTITY_SETS],
                           "serverSettings": {"conformance": CONFORMANCE}})
        target: _Coll | Entity = self._first_segment(segments[0])
        link = f"{ctx.base}/{segments[0]}"
        rest = segments[1:]
        while rest:
            seg = rest.pop(0)
            if seg == "$ref":
                if rest:
                    raise bad_request("$ref must be the last part of the path")
                return Answer(self._refs(target, args, ctx, link))
            if isinstance(target, _Coll):
                raise bad_request(f"{seg!r} cannot follow a collection; address one entity "
                                  f"first, e.g. {target.set}(1)/{seg}")
            name, id_text = self._split(seg)
            nav = NAVIGATION[target.set].get(name)
            if nav is None:
                return self._property(target, name, id_text, rest, ctx.base)
            link = f"{ctx.base}/{target.set}({lit(target.id)})/{name}"
            if nav.many:
                target = _Coll(nav.target, target, name)
                if id_text is not None:
                    target = self._member(target, parse_id(id_text))
                    link = f"{ctx.base}/{target.set}({lit(target.id)})"
            else:
                found = self._related(target, name)
                if not found:
                    raise not_found(f"{_name(target)} has no {name}")
                target = found[0]
                link = f"{ctx.base}/{target.set}({lit(target.id)})"
        if isinstance(target, _Coll):
            q = parse_query(args, target.set)
            return Answer(self._collection(target, q, ctx, link))
        q = parse_query(args, target.set)
        _no_paging(q)
        return Answer(self._render(target, q, ctx))

    def _first_segment(self, seg: str) -> _Coll | Entity:
        name, id_text = self._split(seg)
        if name not in NAVIGATION:
            raise not_found(f"no entity set {name!r}; the service has {', '.join(ENTITY_SETS)}")
        coll = _Coll(name)
        return coll if id_text is None else self._member(coll, parse_id(id_text))

    @staticmethod
    def _split(seg: str) -> tuple[str, str | None]:
        match = _SEGMENT.match(seg)
        if match is None:
            raise bad_request(f"path segment {seg[:60]!r} is not a name or Name(id)")
        return match[1], match[2]

    @staticmethod
    def _property(entity: Entity, name: str, id_text: str | None, rest: list[str],
                  base: str) -> Answer:
        if id_text is not None or (name not in entity.props and name != "id"):
            raise not_found(f"{entity.set} have no property or navigation {name!r}")
        value = to_json(entity.id if name == "id" else absolute(name, entity.props[name], base))
        if rest == ["$value"]:
            return Answer(value if isinstance(value, str) else dumps(value), "text/plain")
        if rest:
            raise bad_request("only $value may follow a property")
        return Answer({"@iot.id" if name == "id" else name: value})

    # -- entities and relations ----------------------------------------------------------

    def _member(self, coll: _Coll, iot_id: int | str) -> Entity:
        entity = self._entity(coll.set, iot_id)
        if entity is not None and coll.parent is not None:
            if coll.set == "Observations":
                inside = int(str(entity.id).split("t")[0]) in self._streams(coll)
            else:
                inside = entity.id in {e.id for e in self._members(coll)}
            entity = entity if inside else None
        if entity is None:
            raise not_found(f"no {coll.set} with id {iot_id!r} here")
        return entity

    def _entity(self, entity_set: str, iot_id: int | str) -> Entity | None:
        if entity_set == "Observations":
            parsed = parse_observation_id(str(iot_id))
            if parsed is None or parsed[0] not in self.graph.series:
                return None
            return obs.read_one(self.store, self.graph.series[parsed[0]], *parsed)
        if entity_set == "HistoricalLocations":
            return next((e for e in self._historical() if e.id == iot_id), None)
        return self.graph.get(entity_set, iot_id) if isinstance(iot_id, int) else None

    def _members(self, coll: _Coll) -> list[Entity]:
        """The members of a (non-Observations) collection, by id."""
        if coll.parent is None:
            if coll.set == "HistoricalLocations":
                return sorted(self._historical(), key=lambda e: e.id)
            return self.graph.all(coll.set)
        assert coll.nav is not None  # a collection below an entity was reached by a nav
        return self._related(coll.parent, coll.nav)

    def _related(self, entity: Entity, nav: str) -> list[Entity]:
        g = self.graph
        target = NAVIGATION[entity.set][nav].target
        if entity.set == "Observations":
            ds = int(str(entity.id).split("t")[0])
            ids = [ds] if nav == "Datastream" else [g.foi_of_datastream[ds]]
        elif entity.set == "HistoricalLocations":
            ids = historical_links(g, entity)[nav]
        elif target == "HistoricalLocations":
            things = [entity.id] if entity.set == "Things" else g.linked(
                entity.set, int(entity.id), "Things")
            hls = {g.thing_of_datastream[d]: h for d, h in self._historical_by_ds().items()}
            return [hls[t] for t in things if t in hls]
        else:
            ids = g.linked(entity.set, int(entity.id), nav)
        return sorted((e for e in (g.get(target, i) for i in ids) if e), key=lambda e: e.id)

    def _navigate(self, entity: Entity, name: str) -> Entity | None:
        nav = NAVIGATION[entity.set].get(name)
        if nav is None:
            return None
        if nav.many:
            raise bad_request(f"$filter and $orderby cannot go through {name}, which holds many "
                              f"{nav.target}; filter the {nav.target} collection instead")
        found = self._related(entity, name)
        return found[0] if found else None

    def _streams(self, coll: _Coll) -> dict[int, obs.Stream]:
        g = self.graph
        if coll.parent is None:
            ids = list(g.series)
        elif coll.parent.set == "Datastreams":
            ids = [int(coll.parent.id)]
        else:
            ids = [g.datastream_of_foi[int(coll.parent.id)]]
        cached = self.first_times.peek()
        return {ds: obs.Stream(g.series[ds], g.interval_ns[ds], cached.get(ds)) for ds in ids}

    def _historical_by_ds(self) -> dict[int, Entity]:
        return historical_locations(self.graph, self.first_times.get())

    def _historical(self) -> list[Entity]:
        return list(self._historical_by_ds().values())

    # -- collections ---------------------------------------------------------------------

    def _collection(self, coll: _Coll, q: Query, ctx: _Ctx, link: str) -> dict[str, Any]:
        if coll.set == "Observations":
            items, total, token = self._observations(coll, q)
            nxt = next_link(link, q.raw, {"$skiptoken": token}, drop="$skip") if token else None
        else:
            if q.skiptoken is not None:
                raise bad_request("$skiptoken is only used for Observations; use $skip")
            members = [e for e in self._members(coll) if self._keeps(q, e)]
            members = sorted_by(members, q.orderby, self._navigate)
            total = len(members)
            items = members[q.skip:q.skip + q.top]
            more = q.skip + q.top < total
            nxt = next_link(link, q.raw, {"$skip": str(q.skip + q.top)}) if more else None
        out: dict[str, Any] = {}
        if q.count:
            out["@iot.count"] = total
        ctx.spend(len(items))
        out["value"] = [self._render(e, q, ctx, spent=True) for e in items]
        if nxt:
            out["@iot.nextLink"] = nxt
        return out

    def _observations(self, coll: _Coll, q: Query) -> tuple[list[Entity], int | None, str | None]:
        ordering = obs.Ordering.of(q.orderby)
        bounds = time_bounds(q.filter, MIN_NS, MAX_NS)
        streams = self._streams(coll)
        if bounds.datastreams is not None:
            streams = {d: k for d, k in streams.items() if d in bounds.datastreams}
        keep = (lambda e: self._keeps(q, e)) if bounds.residual else None
        now = self.wall_ns()
        page = obs.page(self.store, streams, ordering, bounds.start_ns, bounds.end_ns, keep,
                        q.top, q.skip, q.skiptoken, now)
        total = obs.count(self.store, streams, bounds.start_ns, bounds.end_ns, keep, now) \
            if q.count else None
        return page.entities, total, page.next_token

    def _keeps(self, q: Query, entity: Entity) -> bool:
        return q.filter is None or evaluate(q.filter, entity, self._navigate) is True

    def _refs(self, target: _Coll | Entity, args: dict[str, str], ctx: _Ctx,
              link: str) -> dict[str, Any]:
        if isinstance(target, Entity):
            return {"@iot.selfLink": f"{ctx.base}/{target.set}({lit(target.id)})"}
        q = parse_query(args, target.set)
        q.select, q.expand = ["@iot.selfLink"], {}
        q.selected = frozenset(q.select)
        return self._collection(target, q, ctx, link)

    # -- rendering -----------------------------------------------------------------------

    def _render(self, e: Entity, q: Query, ctx: _Ctx, *, spent: bool = False) -> dict[str, Any]:
        if not spent:
            ctx.spend()
        if e.set == "Observations" and q.selected is None and not q.expand:
            return plain_observation(e, ctx.base)
        self_link = f"{ctx.base}/{e.set}({lit(e.id)})"
        sel = q.selected
        out: dict[str, Any] = {}
        if sel is None or "id" in sel or "@iot.id" in sel:
            out["@iot.id"] = e.id
        if sel is None or "@iot.selfLink" in sel:
            out["@iot.selfLink"] = self_link
        for key, value in e.props.items():
            if sel is None or key in sel:
                out[key] = to_json(absolute(key, value, ctx.base))
        for nav, info in NAVIGATION[e.set].items():
            sub = q.expand.get(nav)
            if sub is None:
                if sel is None or nav in sel:
                    out[f"{nav}@iot.navigationLink"] = f"{self_link}/{nav}"
            elif info.many:
                coll = self._collection(_Coll(info.target, e, nav), sub, ctx,
                                        f"{self_link}/{nav}")
                out[nav] = coll["value"]
                if "@iot.count" in coll:
                    out[f"{nav}@iot.count"] = coll["@iot.count"]
                if "@iot.nextLink" in coll:
                    out[f"{nav}@iot.nextLink"] = coll["@iot.nextLink"]
            else:
                _no_paging(sub)
                found = self._related(e, nav)
                if found:
                    out[nav] = self._render(found[0], sub, ctx)
        return out


def _name(entity: Entity) -> str:
    return f"{entity.set}({lit(entity.id)})"


def _no_paging(q: Query) -> None:
    if q.count or q.filter is not None or q.orderby or q.skip or q.skiptoken:
        raise bad_request("$filter, $orderby, $skip, $count apply to collections, not to "
                          "one entity")
