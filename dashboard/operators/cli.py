"""`stadtpuls dashboard user add|remove|list`: manage the operators file.

The password is read from a prompt (twice, not echoed) or, when stdin is not a terminal,
from its first line, never from the command line, where `ps` and shell history would keep
it.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from stadtpuls.settings import SettingsError, users_file


def configure_user_parser(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="dashboard_command", metavar="ACTION")
    user = sub.add_parser("user", help="add, remove or list operators (the users file of "
                          "--users-file / STADTPULS_DASHBOARD_USERS_FILE)")
    actions = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    for name, help_text in (("add", "add an operator or set a new password (asked for, or "
                             "the first line of stdin)"), ("remove", "remove an operator")):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("name", help="operator name (letters, digits, _ . @ -)")
        action.add_argument("--users-file", help="env STADTPULS_DASHBOARD_USERS_FILE")
    listing = actions.add_parser("list", help="operator names")
    listing.add_argument("--users-file", help="env STADTPULS_DASHBOARD_USERS_FILE")


def _fail(message: str) -> int:
    print(f"stadtpuls dashboard user: {message}", file=sys.stderr)
    return 2


def _password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def run_user(args: argparse.Namespace) -> int:
    from dashboard.operators.users import (
        UsersFileError,
        check_name,
        load_users,
        remove_user,
        save_user,
    )

    try:
        path = users_file(args)
    except SettingsError as exc:
        return _fail(str(exc))
    if not path:
        return _fail("no users file: set --users-file or STADTPULS_DASHBOARD_USERS_FILE")
    try:
        if args.user_command == "list":
            for name in sorted(load_users(path)):
                print(name)
            return 0
        name = check_name(args.name)
        if args.user_command == "remove":
            if not remove_user(path, name):
                return _fail(f"no operator {name!r} in {path}")
            print(f"removed {name} from {path}")
            return 0
        new = save_user(path, name, _password())
    except (UsersFileError, ValueError) as exc:
        return _fail(str(exc))
    print(f"{'added' if new else 'new password for'} {name} in {path}")
    return 0
