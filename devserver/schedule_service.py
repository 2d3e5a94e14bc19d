"""The schedule RPCs of WorkflowService."""

from __future__ import annotations

from typing import Any

from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv

from devserver.engine import Engine
from devserver.rpc import rpc
from devserver.schedules import ScheduleManager


class ScheduleHandlers:
    """The schedule RPCs of WorkflowService, over `ScheduleManager`."""

    engine: Engine
    schedules: ScheduleManager

    @rpc
    async def CreateSchedule(
        self, request: wsv.CreateScheduleRequest, context: Any
    ) -> wsv.CreateScheduleResponse:
        record = self.schedules.create(request)
        return wsv.CreateScheduleResponse(conflict_token=str(record.conflict_token).encode())

    @rpc
    async def DescribeSchedule(
        self, request: wsv.DescribeScheduleRequest, context: Any
    ) -> wsv.DescribeScheduleResponse:
        record = self.schedules.get(request.namespace, request.schedule_id)
        return wsv.DescribeScheduleResponse(
            schedule=record.schedule,
            info=self.schedules.info(record),
            memo=record.memo,
            search_attributes=record.search_attributes,
            conflict_token=str(record.conflict_token).encode(),
        )

    @rpc
    async def UpdateSchedule(
        self, request: wsv.UpdateScheduleRequest, context: Any
    ) -> wsv.UpdateScheduleResponse:
        self.schedules.update(request)
        return wsv.UpdateScheduleResponse()

    @rpc
    async def PatchSchedule(
        self, request: wsv.PatchScheduleRequest, context: Any
    ) -> wsv.PatchScheduleResponse:
        self.schedules.patch(request)
        return wsv.PatchScheduleResponse()

    @rpc
    async def DeleteSchedule(
        self, request: wsv.DeleteScheduleRequest, context: Any
    ) -> wsv.DeleteScheduleResponse:
        self.schedules.delete(request.namespace, request.schedule_id)
        return wsv.DeleteScheduleResponse()

    @rpc
    async def ListSchedules(
        self, request: wsv.ListSchedulesRequest, context: Any
    ) -> wsv.ListSchedulesResponse:
        return self.schedules.list_schedules(
            request.namespace, request.query, request.maximum_page_size, request.next_page_token
        )

    @rpc
    async def ListScheduleMatchingTimes(
        self, request: wsv.ListScheduleMatchingTimesRequest, context: Any
    ) -> wsv.ListScheduleMatchingTimesResponse:
        response = wsv.ListScheduleMatchingTimesResponse()
        for when in self.schedules.matching_times(request):
            response.start_time.add().FromDatetime(when)
        return response
