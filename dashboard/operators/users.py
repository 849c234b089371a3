"""The operators file: one `name:hash` line per operator, the hash an argon2id PHC string.

Why argon2id (argon2-cffi): it is OWASP's first choice for password storage, memory-hard
with a modest footprint (RFC 9106's second recommended profile: 64 MiB, 3 passes), and the
library is small and well kept. The file is read again when it changes, so adding or removing
an operator needs no restart, and a removed operator's session ends at their next request.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError

log = logging.getLogger(__name__)

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
MAX_FILE_BYTES = 1 << 20
MAX_PASSWORD_CHARS = 1024
MIN_PASSWORD_CHARS = 12
_HASHER = PasswordHasher()
# Verified for unknown names so a wrong name costs as long as a wrong password.
_DUMMY = _HASHER.hash("stadtpuls: no such operator")


class UsersFileError(ValueError):
    """The users file cannot be used; the message is one line naming file, line and fix."""


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise UsersFileError(f"operator name {name!r} is not valid: 1-64 letters, digits and "
                             "_ . @ - (starting with a letter or digit)")
    return name


def check_password(password: str) -> str:
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise UsersFileError(f"a password needs {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} "
                             "characters")
    return password


def hash_password(password: str) -> str:
    return _HASHER.hash(check_password(password))


def load_users(path: str | Path) -> dict[str, str]:
    """name -> hash; raises UsersFileError (one line) for a file that cannot be used."""
    file = Path(path)
    try:
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            raise UsersFileError(f"{file}: {size} bytes is more than an operators file holds "
                                 f"({MAX_FILE_BYTES}); is it the right file?")
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsersFileError(f"{file}: cannot read the operators file: {exc.strerror}; check "
                             "STADTPULS_DASHBOARD_USERS_FILE") from None
    except UnicodeDecodeError:
        raise UsersFileError(f"{file}: not UTF-8 text; an operators file has lines "
                             "NAME:HASH made by `stadtpuls dashboard user add`") from None
    users: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, hashed = line.partition(":")
        where = f"{file}:{number}"
        if not sep:
            raise UsersFileError(f"{where}: expected NAME:HASH; make lines with `stadtpuls "
                                 "dashboard user add NAME`")
        try:
            check_name(name)
        except UsersFileError as exc:
            raise UsersFileError(f"{where}: {exc}") from None
        if name in users:
            raise UsersFileError(f"{where}: operator {name!r} is listed twice; keep one line")
        try:
            if extract_parameters(hashed).type.name != "ID":
                raise InvalidHashError
        except (InvalidHashError, ValueError):
            raise UsersFileError(f"{where}: the hash of {name!r} is not an argon2id hash; "
                                 f"set it again with `stadtpuls dashboard user add {name}`"
                                 ) from None
        users[name] = hashed
    return users


def save_user(path: str | Path, name: str, password: str) -> bool:
    """Add or replace `name`; True if it was new. Written atomically, readable by the owner."""
    file = Path(path)
    users = load_users(file) if file.exists() else {}
    new = check_name(name) not in users
    users[name] = hash_password(password)
    _write(file, users)
    return new


def remove_user(path: str | Path, name: str) -> bool:
    file = Path(path)
    users = load_users(file)
    if users.pop(name, None) is None:
        return False
    _write(file, users)
    return True


def _write(file: Path, users: dict[str, str]) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".users-", dir=file.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("# Stadtpuls dashboard operators: NAME:argon2id hash "
                      "(stadtpuls dashboard user add NAME)\n")
            out.writelines(f"{name}:{hashed}\n" for name, hashed in sorted(users.items()))
        os.chmod(tmp, 0o600)
        os.replace(tmp, file)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass
class _Loaded:
    stamp: tuple[int, int]
    users: dict[str, str]


class Users:
    """The operators file, re-read when its size or modification time changes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._loaded: _Loaded | None = None
        self._lock = threading.Lock()

    def _users(self) -> dict[str, str]:
        stat = self.path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if self._loaded is None or self._loaded.stamp != stamp:
                self._loaded = _Loaded(stamp, load_users(self.path))
            return self._loaded.users

    def exists(self, name: str) -> bool:
        try:
            return name in self._users()
        except (OSError, UsersFileError):
            return False  # closed: an unreadable file logs nobody in

    def verify(self, name: str, password: str) -> bool:
        if len(password) > MAX_PASSWORD_CHARS:
            return False
        try:
            hashed = self._users().get(name)
        except (OSError, UsersFileError) as exc:
            log.error("nobody can log in: %s", exc)  # closed, and the operator is told why
            return False
        try:
            return _HASHER.verify(hashed or _DUMMY, password) and hashed is not None
        except (VerificationError, InvalidHashError):
            return False
