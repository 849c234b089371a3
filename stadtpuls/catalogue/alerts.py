"""Alert rules, recipients and routing: the catalogue's `alerts:` section.

Rules are layered so a city with thousands of sensors writes a handful of lines: built-in
defaults, then `defaults`, then `quantities.<q>`, then `sites.<site>` (its own fields, then its
`quantities.<q>`, then `sensors.<id>`). Each layer sets only the fields it names; the most
specific wins field by field (a site may lengthen `stuck.for` and keep the quantity's
epsilon). `threshold` lists are replaced whole by a more specific layer. Durations are
seconds or text such as `90s`, `10m`, `2h`, `1d`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    model_validator,
)

from stadtpuls.units import Quantity

if TYPE_CHECKING:
    from stadtpuls.health import HealthLimits

Severity = Literal["info", "warning", "critical"]
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}
_UNITS = {"s": 1, "m": 60, "h": 3_600, "d": 86_400}


def _duration(value: Any) -> Any:
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", value)
        if match is None:
            raise ValueError(f"duration {value!r} is not valid; write e.g. 90s, 10m, 2h, 1d "
                             "or a number of seconds")
        return float(match[1]) * _UNITS[match[2]]
    return value


Duration = Annotated[float, BeforeValidator(_duration), Field(ge=0)]


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class _Lifecycle(_Rule):
    enabled: bool = Field(True, description="false switches this rule off at this level.")
    for_s: Duration = Field(0.0, alias="for", description="Wait time: the condition must "
                            "hold this long before the alert fires (pending until then).")
    severity: Severity = Field("warning", description="info, warning or critical.")


class ThresholdRule(_Lifecycle):
    name: str | None = Field(None, pattern=r"^[a-z0-9_]{1,40}$",
                             description="Rule name; default above_<level> / below_<level>.")
    above: float | None = Field(None, description="Fire when the value rises above this.")
    below: float | None = Field(None, description="Fire when the value falls below this.")
    clear: float | None = Field(None, description="Resolve only once the value is back past "
                                "this level (hysteresis); default the firing level.")

    @model_validator(mode="after")
    def _levels(self) -> Self:
        if (self.above is None) == (self.below is None):
            raise ValueError("a threshold rule needs exactly one of 'above' or 'below'")
        if self.above is not None and self.clear is not None and self.clear > self.above:
            raise ValueError(f"clear ({self.clear:g}) must not be above 'above' "
                             f"({self.above:g}): the alert clears below the firing level")
        if self.below is not None and self.clear is not None and self.clear < self.below:
            raise ValueError(f"clear ({self.clear:g}) must not be below 'below' "
                             f"({self.below:g}): the alert clears above the firing level")
        return self

    @property
    def rule_id(self) -> str:
        if self.name:
            return f"threshold:{self.name}"
        return f"threshold:above_{self.above:g}" if self.above is not None else \
            f"threshold:below_{self.below:g}"


class NoDataRule(_Lifecycle):
    """Fires when the sensor is silent (no reading for 1.6 intervals; stadtpuls/health.py)."""


class ImplausibleRule(_Lifecycle):
    """Fires while the newest reading is marked implausible."""


class StuckRule(_Lifecycle):
    enabled: bool | None = Field(None, description="Default: on, except for meters and "  # type: ignore[assignment]
                                 "counters (energy, count).")
    window: Duration | None = Field(None, description="Flat for this long counts as stuck; "
                                    "default the longer of 2 h and 12 intervals.")
    epsilon: float | None = Field(None, ge=0, description="Variation at or below this counts "
                                  "as unchanged (canonical unit); default per quantity.")


class CompletenessRule(_Lifecycle):
    severity: Severity = "info"
    below: float = Field(0.8, gt=0, le=1, description="Fire below this share of the expected "
                         "readings.")
    window: Duration = Field(86_400.0, gt=0, description="Over this window.")


class BatteryRule(_Lifecycle):
    below: float = Field(20.0, ge=0, le=100, description="Fire below this battery level, %.")
    clear: float = Field(25.0, ge=0, le=100, description="Resolve above this level, %.")

    @model_validator(mode="after")
    def _hysteresis(self) -> Self:
        if self.clear < self.below:
            raise ValueError(f"clear ({self.clear:g}) must not be below 'below' ({self.below:g})")
        return self


_KINDS: dict[str, type[_Rule]] = {
    "no_data": NoDataRule, "stuck": StuckRule, "implausible": ImplausibleRule,
    "completeness": CompletenessRule, "battery": BatteryRule,
}


class RuleSet(_Rule):
    """One layer of rules; every field is optional and only what it names is set."""

    no_data: NoDataRule | None = Field(None, description="Sensor sends nothing.")
    stuck: StuckRule | None = Field(None, description="Value does not change.")
    implausible: ImplausibleRule | None = Field(None, description="Value out of range.")
    completeness: CompletenessRule | None = Field(None, description="Too few readings.")
    battery: BatteryRule | None = Field(None, description="Device battery low.")
    threshold: list[ThresholdRule] | None = Field(None, description="Value above/below levels.")


class SiteRules(RuleSet):
    quantities: dict[Quantity, RuleSet] = Field(default_factory=dict,
                                                description="Rules per quantity at this site.")
    sensors: dict[str, RuleSet] = Field(default_factory=dict,
                                        description="Rules for single sensors, by id.")


class PipelineRule(_Rule):
    enabled: bool = True
    for_s: Duration = Field(300.0, alias="for", description="How long before it fires.")
    severity: Severity = "critical"


class PipelineRules(_Rule):
    store_unreachable: PipelineRule = Field(
        default_factory=lambda: PipelineRule(for_s=120.0),
        description="The evaluator cannot query the store.")
    spool_growing: PipelineRule = Field(
        default_factory=lambda: PipelineRule(for_s=600.0, severity="warning"),
        description="An ingest's spool depth grew over the whole wait time.")
    ingest_not_reporting: PipelineRule = Field(
        default_factory=lambda: PipelineRule(for_s=300.0),
        description="An ingest wrote no pipeline figures for the wait time.")
    kiosk_not_reporting: PipelineRule = Field(
        default_factory=lambda: PipelineRule(for_s=900.0, severity="warning"),
        description="A lobby screen (`displays:`) that has polled the dashboard before has "
        "not polled it for the wait time; a screen that never reported is not alerted. "
        "Lengthen `for` (or disable) for screens switched off at night.")


class Recipient(_Rule):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$", description="Recipient id.")
    email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+$", description="E-mail address.")
    webhook: bool = Field(False, description="Send to the configured webhook "
                          "(STADTPULS_ALERTS_WEBHOOK_URL).")
    language: Literal["de", "en"] = Field("de", description="Language of the messages.")
    sites: list[str] = Field(default_factory=list, description="Only these sites; empty: all, "
                             "and the pipeline.")
    min_severity: Severity = Field("warning", description="Only alerts at least this severe.")

    @model_validator(mode="after")
    def _one_channel(self) -> Self:
        if (self.email is None) == (not self.webhook):
            raise ValueError(f"recipient {self.id!r} needs exactly one of 'email' or "
                             "'webhook: true'")
        return self

    def wants(self, site: str, severity: str) -> bool:
        return ((not self.sites or site in self.sites)
                and SEVERITY_RANK[severity] >= SEVERITY_RANK[self.min_severity])


class ResolvedRules(_Rule):
    """The rules that apply to one sensor after layering (disabled kinds are None)."""

    no_data: NoDataRule | None
    stuck: StuckRule | None
    implausible: ImplausibleRule | None
    completeness: CompletenessRule | None
    battery: BatteryRule | None
    threshold: list[ThresholdRule]


class AlertConfig(_Rule):
    defaults: RuleSet = Field(default_factory=RuleSet, description="Rules for every sensor.")
    quantities: dict[Quantity, RuleSet] = Field(default_factory=dict,
                                                description="Rules per quantity, all sites.")
    sites: dict[str, SiteRules] = Field(default_factory=dict, description="Rules per site.")
    pipeline: PipelineRules = Field(default_factory=PipelineRules,
                                    description="Rules about the pipeline itself.")
    recipients: list[Recipient] = Field(default_factory=list, description="Who is told.")
    reminder_every: Duration = Field(14_400.0, alias="reminder",
                                     description="Remind of unacknowledged firing alerts this "
                                     "often; 0 = never.")
    # Keyed by the layers that apply, not by sensor: 10,000 sensors of one template resolve
    # once per site and quantity (a cold dashboard resolved every sensor, 0.8 s of CPU).
    _memo: dict[tuple[str | None, str | None, Quantity], ResolvedRules] = PrivateAttr(
        default_factory=dict)

    def check_references(self, sensors: dict[str, set[str]]) -> None:
        """Site and sensor ids named here exist; recipient ids are unique."""
        for site, rules in self.sites.items():
            if site not in sensors:
                raise ValueError(f"alerts.sites names unknown site {site!r}; known: "
                                 f"{sorted(sensors)}")
            for sensor_id in rules.sensors:
                if sensor_id not in sensors[site]:
                    raise ValueError(f"alerts.sites.{site}.sensors names unknown sensor "
                                     f"{sensor_id!r}")
        seen: set[str] = set()
        for recipient in self.recipients:
            if recipient.id in seen:
                raise ValueError(f"alerts.recipients: id {recipient.id!r} is used twice")
            seen.add(recipient.id)
            for site in recipient.sites:
                if site not in sensors:
                    raise ValueError(f"recipient {recipient.id!r} names unknown site {site!r}")

    def rules_for(self, site: str, sensor_id: str, quantity: Quantity) -> ResolvedRules:
        site_rules = self.sites.get(site)
        key = (site if site_rules is not None else None,
               sensor_id if site_rules is not None and sensor_id in site_rules.sensors
               else None, quantity)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = self._resolve(site, sensor_id, quantity)
        return found

    def _resolve(self, site: str, sensor_id: str, quantity: Quantity) -> ResolvedRules:
        site_rules = self.sites.get(site)
        layers: list[RuleSet] = [self.defaults]
        layers += [self.quantities[quantity]] if quantity in self.quantities else []
        if site_rules is not None:
            layers.append(site_rules)
            layers += [site_rules.quantities[quantity]] if quantity in site_rules.quantities \
                else []
            layers += [site_rules.sensors[sensor_id]] if sensor_id in site_rules.sensors else []
        merged: dict[str, Any] = {}
        for kind, model in _KINDS.items():
            fields: dict[str, Any] = {}
            for layer in layers:
                rule = getattr(layer, kind)
                if rule is not None:
                    fields.update({k: getattr(rule, k) for k in rule.model_fields_set})
            rule = model.model_validate(fields)
            merged[kind] = rule if getattr(rule, "enabled", True) is not False else None
        thresholds = next((layer.threshold for layer in reversed(layers)
                           if layer.threshold is not None), [])
        merged["threshold"] = [t for t in thresholds if t.enabled]
        return ResolvedRules.model_validate(merged)

    def limits_for(self, site: str, sensor: Any) -> HealthLimits:
        """Health limits of a catalogue `Sensor` (the dashboard and the evaluator use these)."""
        from stadtpuls.health import HealthLimits  # health imports the models, which import us

        rules = self.rules_for(site, sensor.id, sensor.quantity)
        stuck, complete, battery = rules.stuck, rules.completeness, rules.battery
        return HealthLimits(
            stuck_window_s=stuck.window if stuck else None,
            stuck_epsilon=stuck.epsilon if stuck else None,
            stuck_enabled=False if stuck is None else stuck.enabled,
            completeness_window_s=complete.window if complete else 86_400.0,
            completeness_min=complete.below if complete else 0.8,
            completeness_enabled=complete is not None,
            battery_min=battery.below if battery else 20.0,
            battery_enabled=battery is not None,
        )
