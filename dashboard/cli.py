"""`stadtpuls dashboard`: serve the web dashboard.

Production serving is gunicorn, embedded, with ONE worker process and several threads. The
query cache lives in the process: with N worker processes every panel would be queried N
times per refresh and single-flight could not merge their requests, defeating "N viewers
cost one query". The work per request is mostly waiting for the store and building JSON, so
threads serve many viewers well; for more, run several instances behind a load balancer.
`--debug` runs Dash's development server (reloading, error pages) instead.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from stadtpuls.settings import (
    add_catalogue_argument,
    add_data_dir_argument,
    add_operator_arguments,
    add_store_arguments,
)
from stadtpuls.store.opening import open_store

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8050
DEFAULT_THREADS = 16


def configure_parser(parser: argparse.ArgumentParser) -> None:
    from dashboard.data.source import DEFAULT_GRID_CO2_G_PER_KWH

    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"address to listen on (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port to listen on (default {DEFAULT_PORT})")
    parser.add_argument("--debug", action="store_true",
                        help="Dash's development server with reloading (never in production)")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                        help=f"request threads of the single gunicorn worker "
                             f"(default {DEFAULT_THREADS})")
    parser.add_argument("--refresh", type=float, default=10.0, metavar="SECONDS",
                        help="how often pages update themselves (default 10)")
    parser.add_argument("--grid-co2-g-per-kwh", type=float,
                        default=DEFAULT_GRID_CO2_G_PER_KWH, metavar="G",
                        help=f"grid emission factor for 'CO2 avoided' in g CO2/kWh (default "
                             f"{DEFAULT_GRID_CO2_G_PER_KWH:g}: Umweltbundesamt, German "
                             "electricity mix 2024, estimate)")
    parser.add_argument("--map-tiles", metavar="URL",
                        help="raster tile URL template with {z}/{x}/{y} for the map background "
                             "(default: none, points on a plain background; works offline)")
    parser.add_argument("--language", choices=("de", "en"), default="de",
                        help="language for first-time visitors whose browser prefers "
                             "neither German nor English (default de)")
    parser.add_argument("--accessibility-contact", metavar="EMAIL_OR_URL",
                        help="where visitors report barriers; shown on the accessibility "
                             "statement (/accessibility), as BITV 2.0 asks")
    add_store_arguments(parser)
    add_catalogue_argument(parser)
    add_operator_arguments(parser)
    add_data_dir_argument(parser, "the alert state (alerts.db, shown on /alerts)")
    from dashboard.operators.cli import configure_user_parser

    configure_user_parser(parser)


def run(args: argparse.Namespace) -> int:
    from stadtpuls.catalogue import CatalogueError, load_catalogue
    from stadtpuls.settings import (
        SettingsError,
        catalogue_path,
        operator_settings,
        store_settings,
    )

    if getattr(args, "dashboard_command", None) == "user":
        from dashboard.operators.cli import run_user

        return run_user(args)
    try:
        catalogue = load_catalogue(catalogue_path(args))
        settings = store_settings(args)
        operators = operator_settings(args)
    except CatalogueError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    except SettingsError as exc:
        print(f"stadtpuls dashboard: {exc}", file=sys.stderr)
        return 2
    if args.grid_co2_g_per_kwh < 0 or args.refresh <= 0 or args.threads < 1:
        print("stadtpuls dashboard: --grid-co2-g-per-kwh must be >= 0, --refresh > 0 and "
              "--threads >= 1", file=sys.stderr)
        return 2
    from dashboard.app import create_app
    from dashboard.data.source import DashboardSettings

    store = open_store(settings)
    dash_settings = DashboardSettings(
        grid_co2_g_per_kwh=args.grid_co2_g_per_kwh, refresh_s=args.refresh,
        live_bucket_s=args.refresh,
        map_tiles=args.map_tiles, default_language=args.language,
        accessibility_contact=args.accessibility_contact)
    app = create_app(store, catalogue, dash_settings, operators=operators)
    print(f"stadtpuls dashboard: http://{args.host}:{args.port}/ reading "
          f"{settings.describe()}", file=sys.stderr)
    reason = operators.why_login_disabled()
    if reason:
        print(f"stadtpuls dashboard: {reason}", file=sys.stderr)
    try:
        if args.debug:
            app.run(host=args.host, port=args.port, debug=True)
        else:
            serve(app.server, args.host, args.port, threads=args.threads)
    finally:
        store.close()
    return 0


def serve(wsgi_app: Any, host: str, port: int, *, threads: int = DEFAULT_THREADS) -> None:
    """Run `wsgi_app` under gunicorn in this process: 1 worker, `threads` threads."""
    from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]

    options = {
        "bind": f"{host}:{port}",
        "workers": 1,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": 60,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
    }

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return wsgi_app

    _Server().run()
