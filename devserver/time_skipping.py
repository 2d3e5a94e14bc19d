"""TestService: the time-skipping controls of Temporal's test server, over our virtual clock."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from google.protobuf import empty_pb2
from temporalio.api.testservice.v1 import request_response_pb2 as tsv
from temporalio.api.testservice.v1 import service_pb2_grpc as tsv_grpc

from devserver.clock import Clock, Scheduler
from devserver.engine import Engine
from devserver.errors import FailedPrecondition
from devserver.rpc import rpc


class TestService(tsv_grpc.TestServiceServicer):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.clock: Clock = engine.clock
        self.scheduler: Scheduler = engine.scheduler

    async def _sleep_until(self, target: datetime) -> None:
        """Wait until virtual time reaches `target`: at once when nothing holds time back."""
        reached = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not reached.done():
                reached.set_result(None)

        handle = self.scheduler.call_at(target, wake)
        try:
            await reached
        finally:
            handle.cancel()

    @rpc
    async def LockTimeSkipping(
        self, request: tsv.LockTimeSkippingRequest, context: Any
    ) -> tsv.LockTimeSkippingResponse:
        self.clock.lock()
        return tsv.LockTimeSkippingResponse()

    @rpc
    async def UnlockTimeSkipping(
        self, request: tsv.UnlockTimeSkippingRequest, context: Any
    ) -> tsv.UnlockTimeSkippingResponse:
        try:
            self.clock.unlock()
        except ValueError as exc:
            raise FailedPrecondition(str(exc)) from None
        return tsv.UnlockTimeSkippingResponse()

    @rpc
    async def Sleep(self, request: tsv.SleepRequest, context: Any) -> tsv.SleepResponse:
        await self._sleep_until(self.clock.now() + request.duration.ToTimedelta())
        return tsv.SleepResponse()

    @rpc
    async def SleepUntil(self, request: tsv.SleepUntilRequest, context: Any) -> tsv.SleepResponse:
        target = request.timestamp.ToDatetime().replace(tzinfo=self.clock.now().tzinfo)
        await self._sleep_until(target)
        return tsv.SleepResponse()

    @rpc
    async def UnlockTimeSkippingWithSleep(
        self, request: tsv.SleepRequest, context: Any
    ) -> tsv.SleepResponse:
        """Unlocked for the length of the sleep, so virtual time can jump to its end."""
        duration = max(request.duration.ToTimedelta(), timedelta(0))
        target = self.clock.now() + duration
        self.clock.unlock()
        try:
            await self._sleep_until(target)
        finally:
            self.clock.lock()
        return tsv.SleepResponse()

    @rpc
    async def GetCurrentTime(self, request: empty_pb2.Empty, context: Any) -> Any:
        response = tsv.GetCurrentTimeResponse()
        response.time.FromDatetime(self.clock.now())
        return response
