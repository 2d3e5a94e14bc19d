"""Worker metrics: the SDK runtime's Prometheus exporter, on CSFLOW_METRICS_PORT when set."""

from __future__ import annotations

import os

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig


def metrics_address() -> str | None:
    port = os.environ.get("CSFLOW_METRICS_PORT", "").strip()
    if not port:
        return None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"CSFLOW_METRICS_PORT must be a port number, got {port!r}")
    host = os.environ.get("CSFLOW_METRICS_HOST", "0.0.0.0")
    return f"{host}:{port}"


def runtime_with_metrics() -> Runtime | None:
    """A runtime serving Prometheus metrics at /metrics, or None to keep the default runtime."""
    address = metrics_address()
    if address is None:
        return None
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))
