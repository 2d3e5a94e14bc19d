"""Assembles the server: clock, engine, gRPC services, and runs it until stopped."""

from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass, field
from datetime import datetime

import grpc
import structlog
from temporalio.api.operatorservice.v1 import service_pb2_grpc as osv_grpc
from temporalio.api.testservice.v1 import service_pb2_grpc as tsv_grpc
from temporalio.api.workflowservice.v1 import service_pb2_grpc as wsv_grpc

from devserver.clock import Clock, Scheduler
from devserver.engine import Engine
from devserver.namespaces import Namespaces
from devserver.operator import OperatorService
from devserver.persistence import Store
from devserver.schedules import ScheduleManager
from devserver.service import WorkflowService
from devserver.time_skipping import TestService

log = structlog.get_logger("devserver")

# Large histories and payloads must pass: Python gRPC's default is 4 MiB.
MAX_MESSAGE_BYTES = 128 * 1024 * 1024


@dataclass
class ServerConfig:
    ip: str = "127.0.0.1"
    port: int = 7233
    namespaces: list[str] = field(default_factory=lambda: ["default"])
    search_attributes: dict[str, int] = field(default_factory=dict)
    time_skipping: bool = False
    db_filename: str | None = None


def next_cron_time(cron: str, after: datetime) -> datetime | None:
    """When a cron workflow's next run starts (Temporal evaluates cron strings in UTC)."""
    from temporalio.api.schedule.v1 import message_pb2 as schedule_pb

    from devserver.schedule_spec import ScheduleSpecError, compile_spec

    try:
        spec = compile_spec(schedule_pb.ScheduleSpec(cron_string=[cron]))
    except ScheduleSpecError as exc:
        raise ValueError(str(exc)) from exc
    return spec.next_time(after)


class DevServer:
    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.clock = Clock(time_skipping=config.time_skipping)
        self.namespaces = Namespaces()
        for name in config.namespaces or ["default"]:
            namespace = self.namespaces.ensure(name)
            namespace.search_attributes.update(config.search_attributes)
        self.namespaces.ensure("default").search_attributes.update(config.search_attributes)
        self.scheduler: Scheduler | None = None
        self.engine: Engine | None = None
        self.grpc_server: grpc.aio.Server | None = None
        self.bound_port = 0
        self.store: Store | None = None

    async def start(self) -> None:
        self.scheduler = Scheduler(self.clock)
        self.engine = Engine(self.clock, self.scheduler, self.namespaces, next_cron_time)
        self.scheduler.after_fire = self.engine.flush
        self.schedules = ScheduleManager(self.engine)
        if self.config.db_filename:
            self.store = Store(self.config.db_filename)
            self.store.load_namespaces(self.namespaces)
            runs, current = self.store.load_runs()
            self.engine.store = self.store
            self.engine.restore(runs, current)
            self.schedules.restore()
            self.engine.namespaces_dirty = True
            self.engine.flush()
        server = grpc.aio.server(
            options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                ("grpc.so_reuseport", 0),
            ]
        )
        wsv_grpc.add_WorkflowServiceServicer_to_server(
            WorkflowService(self.engine, self.schedules), server
        )
        osv_grpc.add_OperatorServiceServicer_to_server(OperatorService(self.engine), server)
        if self.config.time_skipping:
            tsv_grpc.add_TestServiceServicer_to_server(TestService(self.engine), server)
        address = f"{self.config.ip}:{self.config.port}"
        self.bound_port = server.add_insecure_port(address)
        if self.bound_port == 0:
            raise OSError(f"cannot listen on {address}")
        await server.start()
        self.scheduler.start()
        self.grpc_server = server
        log.info(
            "devserver listening",
            address=f"{self.config.ip}:{self.bound_port}",
            namespaces=[n.name for n in self.namespaces.all()],
            time_skipping=self.config.time_skipping,
        )

    async def stop(self, grace: float = 1.0) -> None:
        if self.grpc_server is not None:
            await self.grpc_server.stop(grace)
        if self.scheduler is not None:
            await self.scheduler.stop()
        if self.store is not None:
            self.store.close()

    async def serve_forever(self) -> None:
        await self.start()
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
        await stopping.wait()
        log.info("devserver stopping")
        await self.stop()
