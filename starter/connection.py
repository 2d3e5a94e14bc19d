"""The Temporal client every csflow process uses: settings from `temporalio.envconfig`.

The profile file and TEMPORAL_* variables (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
TEMPORAL_API_KEY, TEMPORAL_TLS_*) decide where to connect, so the same code reaches the embedded
devserver, a self-hosted cluster or Temporal Cloud without change.
"""

from __future__ import annotations

from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.envconfig import ClientConfigProfile
from temporalio.runtime import Runtime

DEFAULT_ADDRESS = "localhost:7233"


def connect_config() -> dict[str, Any]:
    config: dict[str, Any] = dict(ClientConfigProfile.load().to_client_connect_config())
    config.setdefault("target_host", DEFAULT_ADDRESS)
    config.setdefault("namespace", "default")
    return config


async def connect(*, lazy: bool = False, runtime: Runtime | None = None) -> Client:
    """Connect with csflow's data converter; `lazy` defers the first connection to first use."""
    extra: dict[str, Any] = {"runtime": runtime} if runtime is not None else {}
    return await Client.connect(
        **connect_config(), data_converter=pydantic_data_converter, lazy=lazy, **extra
    )
