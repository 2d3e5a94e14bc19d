"""Worker metrics: the SDK runtime's Prometheus exporter, on CSFLOW_METRICS_PORT when set."""

from __future__ import annotations

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from domain.settings import Settings


def metrics_address(settings: Settings) -> str | None:
    if settings.metrics_port is None:
        return None
    return f"{settings.metrics_host}:{settings.metrics_port}"


def runtime_with_metrics(settings: Settings) -> Runtime | None:
    """A runtime serving Prometheus metrics at /metrics, or None to keep the default runtime."""
    address = metrics_address(settings)
    if address is None:
        return None
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))
