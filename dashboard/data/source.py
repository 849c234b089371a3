"""What every data function needs: the cached store, the catalogue, settings and the clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from dashboard.data.cache import CachedStore, TTLCache
from stadtpuls.catalogue import Catalogue
from stadtpuls.store.protocol import StoreReader
from stadtpuls.timebase import NS_PER_S

# Umweltbundesamt (UBA), "Entwicklung der spezifischen Treibhausgas-Emissionen des deutschen
# Strommix in den Jahren 1990 – 2024" (2025): the CO2 emission factor of the German electricity
# mix, direct CO2 emissions per kWh of electricity consumed, estimated at 363 g/kWh for 2024,
# the most recent year the UBA gives. It is the average mix: a conservative measure of what a
# kWh of PV displaces (the displaced marginal plant usually emits more).
DEFAULT_GRID_CO2_G_PER_KWH = 363.0

# "What that means" on lobby screens (dashboard/README.md, kiosk section, gives the sources):
# Statistisches Bundesamt (Destatis), electricity use of private households by size, 2019:
# 1,958 kWh (one person), 3,196 kWh (two persons) a year; we count a household as the
# two-person one, rounded to 3,200 kWh.
HOUSEHOLD_KWH_PER_YEAR = 3_200.0
# Umweltbundesamt, "Vergleich der durchschnittlichen Emissionen einzelner Verkehrsmittel im
# Personenverkehr in Deutschland" (TREMOD), car: 166 g CO2-equivalents per passenger-km.
CAR_G_CO2_PER_KM = 166.0


@dataclass(frozen=True)
class DashboardSettings:
    grid_co2_g_per_kwh: float = DEFAULT_GRID_CO2_G_PER_KWH
    refresh_s: float = 10.0
    """How often pages poll the server for new data."""
    live_bucket_s: float = 10.0
    """Time bucket of live queries: viewers within one bucket share one store query. As
    long as the refresh period, so a page costs one live query per refresh however many
    screens show it; a newest reading can show up to a bucket late, which only makes a
    sensor's age look larger (never hides a silent one)."""
    map_tiles: str | None = None
    """Raster tile URL template ({z}/{x}/{y}) for the map; None = plain background."""
    default_language: str = "de"
    underperformance_ratio: float = 0.8
    """Arrays whose actual/expected output falls below this are flagged."""
    household_kwh_per_year: float = HOUSEHOLD_KWH_PER_YEAR
    car_g_co2_per_km: float = CAR_G_CO2_PER_KM
    kiosk_poll_s: float = 5.0
    """How often a lobby screen asks for its scene (and at every scene change)."""
    screen_heartbeat_s: float = 30.0
    """How often the screens' last polls are copied to the alert state (kiosk rule)."""
    accessibility_contact: str | None = None
    """E-mail address (or https URL) for reports of barriers, on the accessibility
    statement (BITV 2.0 asks for one)."""


@dataclass
class DataSource:
    """The dashboard's window on the world; one per app, shared by all requests."""

    reader: CachedStore
    catalogue: Catalogue
    settings: DashboardSettings = field(default_factory=DashboardSettings)
    clock: Callable[[], float] = time.time
    """Seconds since the epoch; injectable so tests can freeze or shift time."""

    @classmethod
    def create(
        cls,
        store: StoreReader,
        catalogue: Catalogue,
        settings: DashboardSettings | None = None,
        clock: Callable[[], float] = time.time,
        cache: TTLCache | None = None,
    ) -> DataSource:
        # `is not None`: an empty TTLCache has length 0 and so is falsy.
        return cls(CachedStore(store, cache if cache is not None else TTLCache()), catalogue,
                   settings or DashboardSettings(), clock)

    def now_ns(self) -> int:
        return int(self.clock() * NS_PER_S)

    def zone(self, site: str) -> ZoneInfo:
        entry = self.catalogue.sites.get(site)
        return ZoneInfo(entry.timezone if entry is not None else "UTC")
