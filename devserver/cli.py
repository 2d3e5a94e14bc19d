"""`devserver` command line, compatible with how the Temporal SDKs launch a server.

devserver server start-dev --port P --ip IP --namespace NS ...   (Temporal CLI dev server)
devserver PORT [--enable-time-skipping]                           (Temporal test server)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

import structlog

from devserver.namespaces import parse_search_attribute_flag
from devserver.persistence import StoreError
from devserver.server import DevServer, ServerConfig

LOG_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "fatal": logging.CRITICAL,
    "never": logging.CRITICAL + 10,
}


def configure_logging(level: str, fmt: str) -> None:
    numeric = LOG_LEVELS.get(level.lower())
    if numeric is None:
        raise SystemExit(f"--log-level {level!r}: expected one of {', '.join(LOG_LEVELS)}")
    renderer: structlog.typing.Processor
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


def _start_dev_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="devserver server start-dev",
        description="Run the Temporal-compatible development server.",
    )
    parser.add_argument("--port", "-p", type=int, default=7233, help="gRPC port")
    parser.add_argument("--ip", default="127.0.0.1", help="IP address to bind")
    parser.add_argument(
        "--namespace",
        "-n",
        action="append",
        default=[],
        help="namespace to create (repeatable); 'default' always exists",
    )
    parser.add_argument(
        "--db-filename",
        "-f",
        default=None,
        help="SQLite file to persist state in (memory only without it)",
    )
    parser.add_argument("--headless", action="store_true", help="accepted; there is no web UI")
    parser.add_argument("--ui-port", type=int, default=None, help="accepted; there is no web UI")
    parser.add_argument("--ui-ip", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--log-format", default="pretty", choices=["pretty", "json", "text"])
    parser.add_argument("--log-level", default="info")
    parser.add_argument(
        "--search-attribute",
        action="append",
        default=[],
        metavar="NAME=TYPE",
        help="register a custom search attribute",
    )
    parser.add_argument(
        "--dynamic-config-value",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="accepted and ignored",
    )
    parser.add_argument("--http-port", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--metrics-port", type=int, default=None, help=argparse.SUPPRESS)
    return parser


def _test_server_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="devserver PORT",
        description="Run as Temporal's time-skipping test server.",
    )
    parser.add_argument("port", type=int)
    # The SDKs launch the test server with only a port and expect time skipping: it is on
    # either way; the flag is accepted for the Java test server's command line.
    parser.add_argument("--enable-time-skipping", action="store_true")
    parser.add_argument("--log-level", default="warn")
    return parser


def parse_args(argv: Sequence[str]) -> tuple[ServerConfig, str, str]:
    """Returns the server configuration and the log level and format."""
    args = list(argv)
    if args[:2] == ["server", "start-dev"]:
        options = _start_dev_parser().parse_args(args[2:])
        attributes: dict[str, int] = {}
        for flag in options.search_attribute:
            try:
                name, value_type = parse_search_attribute_flag(flag)
            except ValueError as exc:
                raise SystemExit(str(exc)) from None
            attributes[name] = value_type
        for flag in options.dynamic_config_value:
            if "=" not in flag:
                raise SystemExit(f"--dynamic-config-value {flag!r}: expected KEY=VALUE")
        namespaces = ["default", *[n for n in options.namespace if n != "default"]]
        config = ServerConfig(
            ip=options.ip,
            port=options.port,
            namespaces=namespaces,
            search_attributes=attributes,
            db_filename=options.db_filename,
        )
        fmt = "json" if options.log_format == "json" else "pretty"
        return config, options.log_level, fmt
    if args and args[0].isdigit():
        options = _test_server_parser().parse_args(args)
        config = ServerConfig(ip="127.0.0.1", port=options.port, time_skipping=True)
        return config, options.log_level, "pretty"
    raise SystemExit(
        "usage: devserver server start-dev [--port P] [--ip IP] [--namespace NS] ...\n"
        "       devserver PORT [--enable-time-skipping]\n"
        "Run `devserver server start-dev --help` for all options."
    )


def main(argv: Sequence[str] | None = None) -> None:
    arguments = sys.argv[1:] if argv is None else argv
    if list(arguments) in (["--help"], ["-h"]):
        print(__doc__)
        return
    config, level, fmt = parse_args(arguments)
    configure_logging(level, fmt)
    try:
        asyncio.run(DevServer(config).serve_forever())
    except (OSError, StoreError) as exc:
        raise SystemExit(f"devserver: {exc}") from None


if __name__ == "__main__":
    main()
