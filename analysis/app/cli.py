"""``campaign-lab app [SCENARIO] [--posterior DIR] [--port N]``: the what-if app in a browser.

Checks the scenario and the posterior before anything starts (a bad one ends with the CLI's
one-line message and exit status 2), starts and warms the worker processes, then serves the
page with Solara's server (uvicorn) on ``127.0.0.1:PORT`` until interrupted. The page's
JavaScript comes from the installed ``solara-assets`` package, so no network is needed.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import scenarios

from ..errors import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", nargs="?", default="double11_beauty",
                        help="preset name or TOML file to open (default double11_beauty)")
    parser.add_argument("--posterior", type=Path, default=None, metavar="DIR",
                        help="a calibration's output folder: each replication uses a "
                        "posterior draw, as `compare --posterior` does")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1, this machine only)")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes for the runs (default: 2, or 1 on one core)")
    parser.add_argument("--population", type=int, default=None,
                        help="consumers per run to start with (default: the scenario's, at "
                        "most 20,000)")


def main(args) -> int:
    scenarios.load(args.scenario)  # refuse a bad scenario before serving anything
    if args.posterior is not None:
        from analysis.calibration.posterior import scenario_draws

        scenario_draws(args.posterior, 1)
    if not 0 < args.port < 65536:
        raise UsageError("--port", "port", "must be in 1..65535", args.port)
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers", "workers", "must be >= 1", args.workers)
    if args.population is not None and args.population < 1:
        raise UsageError("--population", "population", "must be >= 1", args.population)
    serve(args.scenario, posterior=args.posterior, host=args.host, port=args.port,
          workers=args.workers, population=args.population)
    return 0


def serve(scenario: str, *, posterior: Path | None = None, host: str = "127.0.0.1",
          port: int = 8765, workers: int | None = None, population: int | None = None) -> None:
    """Serve the app until interrupted (blocks)."""
    os.environ["SOLARA_APP"] = "analysis.app.page:Page"
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    os.environ.setdefault("SOLARA_THEME_SHOW_BANNER", "False")
    import uvicorn

    from . import page
    from .runs import shared_workers
    from .state import Setup

    pool = shared_workers(workers)
    pool.warm()
    page.SETUP = Setup(scenario, None if posterior is None else str(posterior), pool,
                       population)
    print(f"campaign-lab app: serving {scenario} at http://{host}:{port}/ (Ctrl-C stops)",
          flush=True)
    try:
        uvicorn.run("solara.server.starlette:app", host=host, port=port, log_level="warning")
    finally:
        pool.close()
