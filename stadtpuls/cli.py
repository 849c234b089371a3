"""The `stadtpuls` command: one entry point, sub-commands owned by their components.

Each component exposes `configure_parser(parser)` and `run(args) -> int` in a module that is
cheap to import (heavy imports such as pvlib, paho or dash happen inside `run`), so that
`stadtpuls --help` and `stadtpuls config check` start fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Protocol, cast


class _Component(Protocol):
    def configure_parser(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


# sub-command -> (module, one-line help). Modules are imported only when listed here.
_COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("demo.cli", "run the whole demo: broker, store, simulators, ingest, "
             "dashboard"),
    "ingest": ("ingest.cli", "subscribe to MQTT and write readings to the store"),
    "dashboard": ("dashboard.cli", "serve the web dashboard"),
    "simulate": ("simulators.cli", "publish simulated sensor readings, or print a year summary"),
    "deadletter": ("ingest.deadletter_cli", "list or replay rejected messages"),
    "rollup": ("rollup.cli", "build roll-up tiers for stored data (backfill), apply retention"),
    "alerts": ("alerts.cli", "evaluate alert rules and notify; list, acknowledge, silence"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stadtpuls",
        description="Stadtpuls smart-city sensor platform.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    config = sub.add_parser("config", help="work with site catalogue files")
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = config_sub.add_parser("check", help="validate a catalogue file; exit 1 on problems")
    check.add_argument("files", nargs="+", metavar="FILE", help="catalogue YAML file(s)")
    check.set_defaults(handler=_config_check)

    for name, (module_name, help_text) in _COMMANDS.items():
        try:
            module = cast(_Component, importlib.import_module(module_name))
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue  # component not built yet: leave the command out of --help
            raise
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        module.configure_parser(cmd)
        cmd.set_defaults(handler=module.run)
    return parser


def _config_check(args: argparse.Namespace) -> int:
    from stadtpuls.catalogue import CatalogueError, load_catalogue

    failed = False
    for file in args.files:
        try:
            catalogue = load_catalogue(file)
        except CatalogueError as exc:
            failed = True
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            continue
        sensors = sum(1 for _ in catalogue.sensors())
        print(f"{file}: ok ({len(catalogue.sites)} sites, {sensors} sensors, "
              f"{len(catalogue.displays)} displays)")
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
