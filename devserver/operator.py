"""OperatorService: registering custom search attributes, as `temporal operator` does."""

from __future__ import annotations

from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import request_response_pb2 as osv
from temporalio.api.operatorservice.v1 import service_pb2_grpc as osv_grpc

from devserver.engine import Engine
from devserver.errors import AlreadyExists, InvalidArgument, NotFound
from devserver.rpc import rpc
from devserver.visibility_query import SYSTEM_ATTRIBUTES


class OperatorService(osv_grpc.OperatorServiceServicer):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.namespaces = engine.namespaces

    @rpc
    async def AddSearchAttributes(
        self, request: osv.AddSearchAttributesRequest, context: Any
    ) -> osv.AddSearchAttributesResponse:
        namespace = self.namespaces.get(request.namespace or "default")
        if not request.search_attributes:
            raise InvalidArgument("search_attributes is not set on request.")
        for name, value_type in request.search_attributes.items():
            if name in SYSTEM_ATTRIBUTES:
                raise InvalidArgument(f"search attribute {name} is a system attribute.")
            if value_type not in IndexedValueType.values() or value_type == 0:
                raise InvalidArgument(f"search attribute {name} has an unknown type {value_type}.")
            existing = namespace.search_attributes.get(name)
            if existing is not None and existing != value_type:
                raise AlreadyExists(
                    f"search attribute {name} already exists with type "
                    f"{IndexedValueType.Name(existing)}."  # type: ignore[arg-type]
                )
        # Validated first, so a bad entry leaves the registry unchanged.
        namespace.search_attributes.update(dict(request.search_attributes))
        self.engine.namespaces_dirty = True
        return osv.AddSearchAttributesResponse()

    @rpc
    async def RemoveSearchAttributes(
        self, request: osv.RemoveSearchAttributesRequest, context: Any
    ) -> osv.RemoveSearchAttributesResponse:
        namespace = self.namespaces.get(request.namespace or "default")
        for name in request.search_attributes:
            if name not in namespace.search_attributes:
                raise NotFound(f"search attribute {name} does not exist.")
        for name in request.search_attributes:
            del namespace.search_attributes[name]
        self.engine.namespaces_dirty = True
        return osv.RemoveSearchAttributesResponse()

    @rpc
    async def ListSearchAttributes(
        self, request: osv.ListSearchAttributesRequest, context: Any
    ) -> osv.ListSearchAttributesResponse:
        namespace = self.namespaces.get(request.namespace or "default")
        response = osv.ListSearchAttributesResponse()
        for name, value_type in namespace.search_attributes.items():
            response.custom_attributes[name] = value_type  # type: ignore[assignment]
        for name, value_type in SYSTEM_ATTRIBUTES.items():
            response.system_attributes[name] = value_type  # type: ignore[assignment]
        return response
