"""Container health probe for the csflow image (Docker HEALTHCHECK, compose healthchecks).

Exits 0 when an HTTP GET of the probe URL answers 2xx within the timeout, 1 otherwise. The URL is,
in order of precedence:

1. the first command-line argument (`python /app/healthcheck.py http://127.0.0.1:8000/readyz`);
2. `CSFLOW_HEALTHCHECK_URL`;
3. chosen from the container's main process: `csflow api` is probed on
   `http://127.0.0.1:${CSFLOW_API_PORT:-8000}/healthz`, anything else (the worker) on its
   Prometheus endpoint `http://127.0.0.1:${CSFLOW_METRICS_PORT:-9464}/metrics`.

The variables are read as csflow reads them (`domain.settings`, installed in the image's
virtual environment); the probe itself is the standard library's: the slim image has no curl.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from domain.settings import Settings, SettingsError

# The worker serves no metrics without CSFLOW_METRICS_PORT; the image sets this one.
DEFAULT_METRICS_PORT = 9464
TIMEOUT_SECONDS = 4.0


def main_process_args(cmdline: Path = Path("/proc/1/cmdline")) -> list[str]:
    """Arguments of the container's PID 1 (e.g. `python /opt/venv/bin/csflow api`)."""
    try:
        raw = cmdline.read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def probe_url(argv: list[str], environ: Mapping[str, str], process_args: list[str]) -> str:
    if argv:
        return argv[0]
    settings = Settings.from_env(environ)
    if settings.healthcheck_url:
        return settings.healthcheck_url
    if "api" in process_args:
        return f"http://127.0.0.1:{settings.api_port}/healthz"
    return f"http://127.0.0.1:{settings.metrics_port or DEFAULT_METRICS_PORT}/metrics"


def healthy(url: str, timeout: float = TIMEOUT_SECONDS) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        url = probe_url(args, os.environ, main_process_args())
    except SettingsError as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    if healthy(url):
        return 0
    print(f"unhealthy: {url}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
