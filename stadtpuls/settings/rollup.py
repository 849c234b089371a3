"""Roll-up and retention settings: how long raw readings and each tier are kept, and how
often the ingest's roll-up worker runs.

Imported on its own (not from `stadtpuls.settings`), by the commands that use it.
Durations are `90d`, `5y` (365 days a year), `12h`, a plain number of days, or `forever`.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re

from stadtpuls.rollup.tiers import Tier
from stadtpuls.settings._resolve import SettingsError

DAY_S = 86_400
# tier (None: raw readings) -> (flag, variable, default)
# Nothing is deleted unless an operator says so: an upgrade must not remove years of readings
# nobody chose to remove. docs/operations.md recommends 90d / 2y / 5y / forever.
RETENTION: dict[Tier | None, tuple[str, str, str]] = {
    None: ("--retention-raw", "STADTPULS_RETENTION_RAW", "forever"),
    Tier.M15: ("--retention-15m", "STADTPULS_RETENTION_15M", "forever"),
    Tier.H1: ("--retention-1h", "STADTPULS_RETENTION_1H", "forever"),
    Tier.D1: ("--retention-1d", "STADTPULS_RETENTION_1D", "forever"),
}
_UNITS = {"h": 3_600, "d": DAY_S, "y": 365 * DAY_S}
_DURATION = re.compile(r"^(\d+)([hdy]?)$")


def parse_duration(text: str, name: str) -> int | None:
    """Seconds, or None for `forever`; a bad value raises SettingsError naming `name`."""
    value = text.strip().lower()
    if value == "forever":
        return None
    m = _DURATION.match(value)
    if m is None or int(m.group(1)) <= 0:
        raise SettingsError(f"{name}={text!r} is not a duration; use e.g. 90d, 5y, 12h or "
                            "forever")
    return int(m.group(1)) * _UNITS[m.group(2) or "d"]


def add_retention_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    for tier, (flag, env, default) in RETENTION.items():
        what = "raw readings" if tier is None else f"the {tier.value} roll-up tier"
        parser.add_argument(flag, help=f"how long to keep {what} (env {env}; default "
                            f"{default}; e.g. 90d, 5y, forever)")


def retention_seconds(args: argparse.Namespace) -> dict[Tier | None, int | None]:
    """Seconds to keep per tier (None key: raw readings; None value: forever)."""
    out: dict[Tier | None, int | None] = {}
    for tier, (flag, env, default) in RETENTION.items():
        given = getattr(args, flag[2:].replace("-", "_"), None)
        text, name = ((given, flag) if given else
                      (os.environ[env], env) if os.environ.get(env) else (default, flag))
        out[tier] = parse_duration(text, name)
    order = [out[t] for t in (None, Tier.M15, Tier.H1, Tier.D1)]
    for finer, coarser in itertools.pairwise(order):
        # Queries use the coarsest tier that fits; it must still hold what finer ones hold.
        if (finer is None and coarser is not None) or (
                finer is not None and coarser is not None and coarser < finer):
            raise SettingsError("each roll-up tier must be kept at least as long as raw "
                                "readings and every finer tier (check --retention-raw, "
                                "--retention-15m, --retention-1h, --retention-1d)")
    return out


def add_rollup_worker_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--rollup-period", type=float,
                       help="seconds between roll-up rounds; 0 = no roll-ups from this ingest "
                       "(env STADTPULS_ROLLUP_PERIOD_S; default 30)")
    group.add_argument("--rollup-catchup-hours", type=float,
                       help="at start, recompute the roll-ups of the last N hours (env "
                       "STADTPULS_ROLLUP_CATCHUP_HOURS; default 6)")
    add_retention_arguments(group)


def _float(flag: float | None, env: str, default: float, name: str) -> float:
    if flag is not None:
        value = flag
    else:
        raw = os.environ.get(env)
        try:
            value = float(raw) if raw else default
        except ValueError:
            raise SettingsError(f"{env}={raw!r} is not a number ({name} / {env})") from None
    if value < 0:
        raise SettingsError(f"{name} must not be negative ({name} / {env})")
    return value


def rollup_worker(args: argparse.Namespace) -> tuple[float, float]:
    """(seconds between rounds, 0 = off; catch-up horizon in seconds)."""
    period = _float(getattr(args, "rollup_period", None), "STADTPULS_ROLLUP_PERIOD_S", 30.0,
                    "--rollup-period")
    hours = _float(getattr(args, "rollup_catchup_hours", None),
                   "STADTPULS_ROLLUP_CATCHUP_HOURS", 6.0, "--rollup-catchup-hours")
    return period, hours * 3_600
