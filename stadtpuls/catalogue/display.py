"""Public display screens (lobby kiosks): which scenes each shows, how long, and at night.

A screen is named by its key under `displays:`; its kiosk URL is `/kiosk/<screen>`. The
scene types are the dashboard's scene modules (`dashboard/kiosk/scenes/`, one module per
type); they are listed here too, so `stadtpuls config check` refuses an unknown type without
importing the dashboard. A test keeps the two lists equal.
"""

from __future__ import annotations

from datetime import time
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

SceneType = Literal["pv_now", "energy", "co2_avoided", "everyday", "indoor_air",
                    "air_quality", "bikes", "clock"]
SCENE_TYPES: tuple[str, ...] = SceneType.__args__  # type: ignore[attr-defined]

ClockTime = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
                                 description="Local time of the screen's site, HH:MM.")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Scene(_Model):
    type: SceneType = Field(description=(
        "What the scene shows: pv_now (PV power now per façade orientation), energy (PV "
        "energy today and this year), co2_avoided (CO₂ the PV avoided today and this year), "
        "everyday (this year's PV energy in households supplied and car kilometres avoided), "
        "indoor_air (CO₂ and temperature of rooms), air_quality (particulates, NO₂, noise), "
        "bikes (bike trips today), clock (time and date)."))
    seconds: float = Field(15.0, ge=1, le=3600, description="How long the scene is shown.")
    site: str | None = Field(None, description=(
        "Site whose data the scene shows; default the screen's site (e.g. street sensors "
        "of the city for air_quality and bikes)."))
    rooms: list[str] | None = Field(None, min_length=1, description=(
        "indoor_air only: the rooms to show, by their sensors' `room`; default every room "
        "of the site. List only rooms the public may see."))

    @model_validator(mode="after")
    def _rooms_only_for_indoor_air(self) -> Self:
        if self.rooms is not None and self.type != "indoor_air":
            raise ValueError(f"'rooms' applies to indoor_air scenes only, not to {self.type}")
        return self


NightMode = Literal["dim", "clock", "scenes"]


class Night(_Model):
    from_: ClockTime = Field(alias="from", description="Night starts at this local time.")
    to: ClockTime = Field(description="Night ends at this local time (may be after midnight).")
    mode: NightMode = Field("dim", description=(
        "dim: the day's scenes, dimmed; clock: only a dimmed clock; scenes: the scenes "
        "listed under `scenes`, dimmed."))
    scenes: list[Scene] | None = Field(None, min_length=1,
                                       description="The night's scenes, for mode 'scenes'.")

    @model_validator(mode="after")
    def _scenes_with_mode(self) -> Self:
        if self.from_ == self.to:
            raise ValueError("'from' and 'to' are equal; give a night of some length")
        if (self.mode == "scenes") != (self.scenes is not None):
            raise ValueError("mode 'scenes' needs a 'scenes' list, and only it takes one")
        return self

    def covers(self, local: time) -> bool:
        """Whether the local wall-clock time `local` falls in the night [from, to)."""
        start, end = _parse(self.from_), _parse(self.to)
        if start < end:
            return start <= local < end
        return local >= start or local < end


def _parse(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


class Display(_Model):
    site: str = Field(description="Site id the screen stands in (time zone, default data).")
    description: str | None = Field(None, description="Where the screen hangs, for the team.")
    language: Literal["de", "en"] = Field(
        "de", description="Language unless the URL says ?lang=…")
    scenes: list[Scene] = Field(min_length=1, description="Scenes in the order shown.")
    night: Night | None = Field(None, description="Night schedule; none = same all day.")

    def all_scenes(self) -> list[Scene]:
        return [*self.scenes, *((self.night.scenes or []) if self.night else [])]


def check_display_references(displays: dict[str, Display], sites: dict[str, set[str]]) -> None:
    """Every site a screen or scene names exists; every room exists at its site.

    `sites` maps each site id to the room names of its sensors.
    """
    for name, display in displays.items():
        if display.site not in sites:
            raise ValueError(f"display {name!r} names unknown site {display.site!r}; "
                             f"known: {sorted(sites)}")
        for scene in display.all_scenes():
            site = scene.site or display.site
            if site not in sites:
                raise ValueError(f"display {name!r}: scene {scene.type} names unknown site "
                                 f"{site!r}; known: {sorted(sites)}")
            missing = sorted(set(scene.rooms or ()) - sites[site])
            if missing:
                raise ValueError(f"display {name!r}: unknown rooms {missing} at site "
                                 f"{site!r}; known: {sorted(sites[site])}")
