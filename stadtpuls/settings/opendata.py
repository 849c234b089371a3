"""Settings of the open-data interfaces (`opendata/`)."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from stadtpuls.settings._resolve import SettingsError


def public_base_url() -> str | None:
    """STADTPULS_PUBLIC_BASE_URL: where the public reaches this deployment, e.g.
    `https://stadtpuls.freiburg.de`; the DCAT catalogue's URIs start with it. None: take the
    host of each request (right unless a proxy rewrites it)."""
    raw = os.environ.get("STADTPULS_PUBLIC_BASE_URL", "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise SettingsError(f"STADTPULS_PUBLIC_BASE_URL={raw!r} is not a base URL; use "
                            "https://host[/path] without query")
    return raw.rstrip("/")
