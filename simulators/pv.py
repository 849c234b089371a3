"""PV arrays: sky → plane of array → cell temperature → DC → AC, with pvlib.

Per array: Perez transposition to its tilt and azimuth (vertical façade fins are tilt 90°),
the angle-of-incidence loss of glass for the beam, the Faiman cell temperature, the PVWatts
DC model with the array's temperature coefficient and system losses, then the PVWatts
inverter model. Three losses no catalogue field describes are modelled here: the urban
horizon (the façade loses the sun below about 12° of elevation, the roof below 3°), the fins
shading each other when the sun stands far off their normal, and ageing plus downtime
(`_AVAILABILITY`). With them the Stühlinger arrays give about 1,000 kWh/kWp on the roof and
520 kWh/kWp in the façade, 556 MWh in all (published: 558 MWh).

Arrays sharing an inverter are summed before the inverter and the AC is shared back in
proportion to their DC. AC power is 0 while the sun is down and never above the inverter's
`ac_rating_w`.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from simulators.calendar import FloatArray
from simulators.sky import Sky
from stadtpuls.catalogue.models import PVArray, Site

_ALBEDO = 0.2  # city surroundings: paving, roofs, some grass
_DIFFUSE_IAM = 0.95  # integrated glass reflection loss for isotropic diffuse light

# Façade fins stand side by side: once the sun is far off a fin's normal, the neighbouring
# fin shades part of it. Beam loss grows with the horizontal angle between sun and normal.
_FIN_SHADE_START_DEG = 40.0
_FIN_SHADE_FULL_DEG = 85.0
_FIN_SHADE_MAX = 0.7

# Surrounding buildings and trees hide the low sun: from a façade (a few storeys up, in a
# built-up quarter) up to about 12° of elevation, from the roof only the last few degrees.
_HORIZON_DEG = {"facade": 12.0, "roof": 3.0}

# The plant went into service in 2017: module degradation (about 0.4 %/a) plus a percent or
# two of downtime (inverter faults, maintenance, snow on the roof) that no catalogue field
# covers.
_AVAILABILITY = 0.965


def simulate_pv(site: Site, sky: Sky) -> dict[str, FloatArray]:
    """AC power in W per PV array id, on the sky's time grid."""
    import pvlib

    inverters = {inv.id: inv for inv in site.inverters}
    dc = {array.id: _array_dc(array, sky) for array in site.pv_arrays}
    by_inverter: dict[str, list[str]] = defaultdict(list)
    for array in site.pv_arrays:
        by_inverter[array.inverter].append(array.id)

    up = sky.zenith < 90.0
    ac: dict[str, FloatArray] = {}
    for inverter_id, array_ids in by_inverter.items():
        inv = inverters[inverter_id]
        dc_sum = np.sum([dc[a] for a in array_ids], axis=0)
        # pvlib clips at eta_inv_nom * pdc0: choose pdc0 so that is exactly the AC rating.
        ac_total = np.asarray(
            pvlib.inverter.pvwatts(
                dc_sum, pdc0=inv.ac_rating_w / inv.efficiency, eta_inv_nom=inv.efficiency
            ),
            dtype=np.float64,
        )
        ac_total = np.where(up, np.clip(ac_total, 0.0, inv.ac_rating_w), 0.0)
        share_base = np.where(dc_sum > 0, dc_sum, 1.0)
        for array_id in array_ids:
            ac[array_id] = ac_total * np.where(dc_sum > 0, dc[array_id] / share_base, 0.0)
    return {array.id: ac[array.id] for array in site.pv_arrays}


def _array_dc(array: PVArray, sky: Sky) -> FloatArray:
    import pvlib

    poa = pvlib.irradiance.get_total_irradiance(
        array.tilt_deg,
        array.azimuth_deg,
        sky.apparent_zenith,
        sky.azimuth,
        sky.dni,
        sky.ghi,
        sky.dhi,
        dni_extra=sky.dni_extra,
        airmass=sky.airmass,
        albedo=_ALBEDO,
        model="perez",
    )
    direct = np.nan_to_num(np.asarray(poa["poa_direct"], dtype=np.float64))
    diffuse = np.nan_to_num(np.asarray(poa["poa_diffuse"], dtype=np.float64))
    aoi = np.asarray(
        pvlib.irradiance.aoi(array.tilt_deg, array.azimuth_deg, sky.apparent_zenith, sky.azimuth),
        dtype=np.float64,
    )
    iam = np.nan_to_num(np.asarray(pvlib.iam.physical(aoi), dtype=np.float64))
    direct = direct * _horizon_visible(array, sky)
    if array.kind == "facade":
        direct = direct * _fin_unshaded(array, sky)
    effective = np.clip(direct * iam + diffuse * _DIFFUSE_IAM, 0.0, None)
    poa_global = np.clip(direct + diffuse, 0.0, None)
    temp_cell = np.asarray(
        pvlib.temperature.faiman(poa_global, sky.temp_air, sky.wind_speed), dtype=np.float64
    )
    dc = np.asarray(
        pvlib.pvsystem.pvwatts_dc(
            effective, temp_cell, pdc0=array.peak_power_w, gamma_pdc=array.temp_coefficient
        ),
        dtype=np.float64,
    )
    result: FloatArray = np.clip(dc * (1.0 - array.system_losses) * _AVAILABILITY, 0.0, None)
    return result


def _fin_unshaded(array: PVArray, sky: Sky) -> FloatArray:
    """Fraction of a façade fin's beam light not shaded by its neighbours."""
    off_normal = np.abs((sky.azimuth - array.azimuth_deg + 180.0) % 360.0 - 180.0)
    shaded = np.clip(
        (off_normal - _FIN_SHADE_START_DEG) / (_FIN_SHADE_FULL_DEG - _FIN_SHADE_START_DEG),
        0.0,
        1.0,
    )
    result: FloatArray = 1.0 - _FIN_SHADE_MAX * shaded
    return result


def _horizon_visible(array: PVArray, sky: Sky) -> FloatArray:
    """Fraction of the beam not blocked by the urban horizon (soft over two degrees)."""
    elevation = 90.0 - sky.apparent_zenith
    horizon = _HORIZON_DEG[array.kind]
    result: FloatArray = np.clip((elevation - horizon + 1.0) / 2.0, 0.0, 1.0)
    return result
