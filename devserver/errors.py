"""Service errors with the gRPC status codes and error details real Temporal returns."""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.protobuf.message import Message
from google.rpc import status_pb2
from temporalio.api.errordetails.v1 import message_pb2 as errordetails


class ServiceError(Exception):
    """An RPC failure: a status code, a message and an optional typed detail."""

    code = grpc.StatusCode.INTERNAL

    def __init__(self, message: str, detail: Message | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def status_details(self) -> bytes:
        """Serialized `google.rpc.Status` for the `grpc-status-details-bin` trailer."""
        status = status_pb2.Status(code=self.code.value[0], message=self.message)
        if self.detail is not None:
            packed = any_pb2.Any()
            packed.Pack(self.detail)
            status.details.append(packed)
        return status.SerializeToString()


class InvalidArgument(ServiceError):
    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(ServiceError):
    code = grpc.StatusCode.NOT_FOUND

    def __init__(self, message: str, detail: Message | None = None) -> None:
        super().__init__(message, detail or errordetails.NotFoundFailure())


class NamespaceNotFound(NotFound):
    def __init__(self, namespace: str) -> None:
        super().__init__(
            f"Namespace {namespace} is not found.",
            errordetails.NamespaceNotFoundFailure(namespace=namespace),
        )


class AlreadyExists(ServiceError):
    code = grpc.StatusCode.ALREADY_EXISTS


class WorkflowAlreadyStarted(AlreadyExists):
    def __init__(self, workflow_id: str, run_id: str, start_request_id: str) -> None:
        super().__init__(
            f"Workflow execution is already running. WorkflowId: {workflow_id}, RunId: {run_id}.",
            errordetails.WorkflowExecutionAlreadyStartedFailure(
                start_request_id=start_request_id, run_id=run_id
            ),
        )


class FailedPrecondition(ServiceError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class Unimplemented(ServiceError):
    code = grpc.StatusCode.UNIMPLEMENTED


class ResourceExhausted(ServiceError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class QueryFailed(ServiceError):
    # Temporal maps a query the workflow failed to INVALID_ARGUMENT with QueryFailedFailure.
    code = grpc.StatusCode.INVALID_ARGUMENT


class DeadlineExceeded(ServiceError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED


def require(value: object, field: str) -> None:
    """Reject a request whose required field is empty, naming the field."""
    if not value:
        raise InvalidArgument(f"{field} is not set on request.")
