"""The API's Temporal client: same connection settings as the worker, but lazy.

Lazy so the API starts (and `/readyz` reports 503) while Temporal is still coming up, instead of
crash-looping; the first call connects, and later calls reconnect after an outage.
"""

from __future__ import annotations

import os
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.envconfig import ClientConfigProfile


async def connect_lazily() -> Client:
    # Mirrors worker.connect(): the envconfig profile plus TEMPORAL_* variables.
    config: dict[str, Any] = dict(ClientConfigProfile.load().to_client_connect_config())
    config.setdefault("target_host", "localhost:7233")
    config["namespace"] = os.environ.get("TEMPORAL_NAMESPACE", config.get("namespace", "default"))
    return await Client.connect(**config, data_converter=pydantic_data_converter, lazy=True)
