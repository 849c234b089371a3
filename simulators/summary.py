"""Energy summary of a simulated period (a year, typically): per PV array and per site.

Self-consumption is computed per step as min(PV, load) / PV: the share of the PV energy the
building uses itself rather than exporting. Autarky is min(PV, load) / load.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from simulators.generate import SiteSimulation, generate
from stadtpuls.catalogue.models import Catalogue


@dataclass(frozen=True)
class ArrayYield:
    array: str
    name: str
    kind: str
    orientation: str
    tilt_deg: float
    azimuth_deg: float
    kwp: float
    kwh: float
    kwh_per_kwp: float
    peak_ac_w: float
    ac_rating_w: float


@dataclass(frozen=True)
class SiteYield:
    site: str
    name: str
    arrays: list[ArrayYield]
    kwp: float
    pv_kwh: float
    kwh_per_kwp: float
    facade_kwh_per_kwp: float | None
    roof_kwh_per_kwp: float | None
    consumption_kwh: float | None
    self_consumed_kwh: float | None
    grid_import_kwh: float | None
    grid_export_kwh: float | None
    self_consumption_share: float | None
    autarky_share: float | None


@dataclass(frozen=True)
class Summary:
    start: datetime
    end: datetime
    step_s: int
    seed: int
    sites: list[SiteYield]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["start"] = self.start.isoformat()
        data["end"] = self.end.isoformat()
        data["pv_kwh"] = sum(s.pv_kwh for s in self.sites)
        return data


def summarize(
    catalogue: Catalogue, sites: list[str], start: datetime, end: datetime, step: timedelta,
    seed: int,
) -> Summary:
    """Simulate each site with PV arrays (others are skipped) and sum up its energy."""
    results = []
    for site_id in sites:
        if not catalogue.sites[site_id].pv_arrays:
            continue
        results.append(site_yield(generate(catalogue, site_id, start, end, step, seed)))
    return Summary(start, end, int(step.total_seconds()), seed, results)


def site_yield(sim: SiteSimulation) -> SiteYield:
    inverters = {inv.id: inv for inv in sim.site.inverters}
    arrays = []
    for array in sim.site.pv_arrays:
        ac = sim.pv_ac_w[array.id]
        kwh = sim.energy_kwh(ac)
        kwp = array.peak_power_w / 1000.0
        arrays.append(ArrayYield(
            array=array.id,
            name=array.name.en,
            kind=array.kind,
            orientation=array.orientation,
            tilt_deg=array.tilt_deg,
            azimuth_deg=array.azimuth_deg,
            kwp=kwp,
            kwh=kwh,
            kwh_per_kwp=kwh / kwp,
            peak_ac_w=float(ac.max()) if ac.size else 0.0,
            ac_rating_w=inverters[array.inverter].ac_rating_w,
        ))
    kwp = sum(a.kwp for a in arrays)
    pv_kwh = sum(a.kwh for a in arrays)

    def specific(kind: str) -> float | None:
        chosen = [a for a in arrays if a.kind == kind]
        if not chosen:
            return None
        return sum(a.kwh for a in chosen) / sum(a.kwp for a in chosen)

    consumption = self_used = grid_in = grid_out = share = autarky = None
    if sim.load_w is not None:
        pv = sim.pv_total_w
        load = sim.load_w
        consumption = sim.energy_kwh(load)
        self_used = sim.energy_kwh(np.minimum(pv, load))
        grid_in = sim.energy_kwh(np.clip(load - pv, 0.0, None))
        grid_out = sim.energy_kwh(np.clip(pv - load, 0.0, None))
        share = self_used / pv_kwh if pv_kwh > 0 else None
        autarky = self_used / consumption if consumption > 0 else None
    return SiteYield(
        site=sim.site_id,
        name=sim.site.name.en,
        arrays=arrays,
        kwp=kwp,
        pv_kwh=pv_kwh,
        kwh_per_kwp=pv_kwh / kwp if kwp else 0.0,
        facade_kwh_per_kwp=specific("facade"),
        roof_kwh_per_kwp=specific("roof"),
        consumption_kwh=consumption,
        self_consumed_kwh=self_used,
        grid_import_kwh=grid_in,
        grid_export_kwh=grid_out,
        self_consumption_share=share,
        autarky_share=autarky,
    )


def format_table(summary: Summary) -> str:
    """A plain-text table for people."""
    lines = [
        f"Simulated {summary.start:%Y-%m-%d %H:%M} to {summary.end:%Y-%m-%d %H:%M} UTC, "
        f"{summary.step_s // 60} min steps, seed {summary.seed}",
    ]
    if not summary.sites:
        lines.append("No site with PV arrays selected.")
    for site in summary.sites:
        lines += ["", f"{site.name} ({site.site})", "",
                  f"{'array':<16}{'kind':<8}{'orient.':>7}{'kWp':>9}{'kWh':>13}{'kWh/kWp':>9}"
                  f"{'peak kW':>9}{'limit kW':>9}"]
        for a in site.arrays:
            lines.append(f"{a.array:<16}{a.kind:<8}{a.orientation:>7}{a.kwp:>9,.1f}"
                         f"{a.kwh:>13,.0f}{a.kwh_per_kwp:>9,.0f}{a.peak_ac_w / 1000:>9,.1f}"
                         f"{a.ac_rating_w / 1000:>9,.1f}")
        lines.append(f"{'total':<31}{site.kwp:>9,.1f}{site.pv_kwh:>13,.0f}"
                     f"{site.kwh_per_kwp:>9,.0f}")
        lines.append("")
        if site.facade_kwh_per_kwp is not None:
            lines.append(f"  façade specific yield   {site.facade_kwh_per_kwp:>12,.0f} kWh/kWp")
        if site.roof_kwh_per_kwp is not None:
            lines.append(f"  roof specific yield     {site.roof_kwh_per_kwp:>12,.0f} kWh/kWp")
        lines.append(f"  PV energy               {site.pv_kwh / 1000:>12,.1f} MWh")
        if site.consumption_kwh is not None:
            lines.append(f"  building consumption    {site.consumption_kwh / 1000:>12,.1f} MWh")
            lines.append(f"  grid import             {(site.grid_import_kwh or 0) / 1000:>12,.1f}"
                         " MWh")
            lines.append(f"  grid export             {(site.grid_export_kwh or 0) / 1000:>12,.1f}"
                         " MWh")
        if site.self_consumption_share is not None:
            lines.append(f"  self-consumption        {site.self_consumption_share:>12.1%}"
                         "  (PV used in the building / PV produced)")
        if site.autarky_share is not None:
            lines.append(f"  autarky                 {site.autarky_share:>12.1%}"
                         "  (PV used in the building / consumption)")
    return "\n".join(lines)
