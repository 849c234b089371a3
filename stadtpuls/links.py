"""Links into the dashboard, built where no dashboard code may be imported (alert messages,
open-data pages), and the cookie that carries a visitor's language across them.

Sensor pages live at `/sensors/<site>~<sensor>[~<quantity>]`, each part percent-encoded
(`~` too), so any id the store holds has a working page; the dashboard routes by
`parse_sensor_token`.
"""

from __future__ import annotations

from urllib.parse import quote, unquote

LANGUAGE_COOKIE = "stadtpuls_lang"
"""Set by the dashboard's language switch; the open-data pages read it too."""


def sensor_token(site: str, sensor: str, quantity: str | None = None) -> str:
    """URL-safe id of a series: `site~sensor[~quantity]`, each part percent-encoded.

    `~` is an unreserved URL character that catalogue ids cannot contain; in ids that do
    (unregistered sensors can be called anything) it is encoded too, so splitting is exact.
    """
    parts = [site, sensor] + ([quantity] if quantity else [])
    return "~".join(quote(p, safe="").replace("~", "%7E") for p in parts)


def parse_sensor_token(token: str) -> tuple[str, str, str | None] | None:
    parts = [unquote(p) for p in token.split("~")]
    if len(parts) == 2 and all(parts):
        return parts[0], parts[1], None
    if len(parts) == 3 and all(parts):
        return parts[0], parts[1], parts[2]
    return None


def sensor_url(base_url: str, site: str, sensor: str) -> str:
    """Absolute link to a sensor's page under the dashboard's public base URL."""
    return f"{base_url.rstrip('/')}/sensors/{sensor_token(site, sensor)}"
