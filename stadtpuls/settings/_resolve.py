"""How a setting is found: flag, then environment, then default; secrets also from files.

Private to `stadtpuls.settings`; the one place that reads the environment.
"""

from __future__ import annotations

import os
from pathlib import Path


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it and what would be valid."""


def pick(flag: str | None, env: str, default: str) -> str:
    return flag or os.environ.get(env) or default


def pick_int(flag: int | None, env: str, default: int, name: str) -> int:
    if flag is not None:  # 0 is a value ("off"), not a missing flag
        return flag
    raw = os.environ.get(env)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{env}={raw!r} is not a whole number ({name} / {env})") from None


def secret(file_flag: str | None, env: str) -> str | None:
    """A secret from FILE flag, then ENV_FILE, then ENV (files keep it out of `ps`)."""
    file = file_flag or os.environ.get(f"{env}_FILE")
    if file:
        try:
            return Path(file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SettingsError(f"cannot read secret file {file!r} for {env}: "
                                f"{exc.strerror}") from None
    return os.environ.get(env) or None


def as_str(value: object) -> str | None:
    return None if value is None else str(value)
