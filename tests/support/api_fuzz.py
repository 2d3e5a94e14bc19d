"""Schemathesis over the API's own OpenAPI document, against the ASGI app with a real worker.

Schemathesis generates the cases (valid ones, and invalid ones that must be refused with a 4xx)
and validates every response against the document; the requests go through the test's httpx
client, signed or authenticated the way each endpoint expects (the bodies are serialized here,
so the signature covers the exact bytes sent). Hypothesis runs in a worker thread and hands each
request to the event loop the app, the worker and Temporal's client live on.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from base64 import b64encode
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any
from urllib.parse import urlencode

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.http_support import (
    INBOUND_AUTH,
    SendGridSigner,
    account_body,
    bearer,
    support_headers,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@dataclass
class FuzzReport:
    examples: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    # Why valid-by-the-schema requests were refused with 422 (checks the schema cannot express).
    refusals: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        codes = ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses.items()))
        return f"{self.examples} examples, {len(self.failures)} failures ({codes})"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _multipart(fields: dict[str, Any]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        f"{_text(value)}\r\n".encode()
        for name, value in fields.items()
    ]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), (
        f"multipart/form-data; boundary={boundary}"
    )


def _body(case: schemathesis.Case) -> tuple[bytes | None, str | None]:
    if case.body is NOT_SET:
        return None, None
    media = case.media_type or "application/json"
    if media == "multipart/form-data" and isinstance(case.body, dict):
        return _multipart(case.body)
    if media == "application/x-www-form-urlencoded" and isinstance(case.body, dict):
        pairs = [(k, _text(v)) for k, v in case.body.items()]
        return urlencode(pairs).encode(), media
    if isinstance(case.body, bytes | str):
        raw = case.body.encode() if isinstance(case.body, str) else case.body
        return raw, media
    return json.dumps(case.body).encode(), media


def _first_problem(path: str, response: httpx.Response) -> str:
    try:
        problem = response.json()["detail"][0]
        return f"{path} {'.'.join(str(p) for p in problem['loc'][:3])}: {problem['type']}"
    except (ValueError, KeyError, IndexError, TypeError):
        return f"{path} (HTML form)"


def _reach_journeys(case: schemathesis.Case) -> None:
    """Give two of three generated events a real account, so they start a journey the worker
    runs (random accounts rarely pass the CRM's checks: emails, time zones), and the rest none,
    so they name an unknown account."""
    body = case.body
    if case.path != "/v1/events" or not isinstance(body, dict):
        return
    account_id = str(body.get("account_id", ""))
    # A stable choice (str hashes differ per process): the same examples every run.
    if sha256(str(body.get("event_id")).encode()).digest()[0] % 3 and account_id.strip():
        account = account_body(account_id)
        # The generated id makes no mail domain: the contacts get one of their own.
        domain = f"acct-{sha256(account_id.encode()).hexdigest()[:12]}.example"
        for contact in account["contacts"]:
            contact["email"] = contact["email"].split("@")[0] + "@" + domain
        body["account"] = account
    else:
        body.pop("account", None)


def _credentials(path: str, body: bytes, signer: SendGridSigner) -> dict[str, str]:
    if path == "/v1/events" or path.startswith(("/v1/accounts/", "/v1/tasks")):
        return bearer()
    if path == "/v1/webhooks/sendgrid/events":
        return signer.headers(body)
    if path == "/v1/webhooks/support":
        return support_headers(body)
    if path == "/v1/webhooks/sendgrid/inbound":
        user, password = INBOUND_AUTH
        return {"Authorization": "Basic " + b64encode(f"{user}:{password}".encode()).decode()}
    return {}


async def run_fuzz(
    app_openapi: dict[str, Any],
    http: httpx.AsyncClient,
    signer: SendGridSigner,
    *,
    max_examples: int,
    deadline_seconds: float,
    path_parameters: dict[str, dict[str, str]] | None = None,
) -> FuzzReport:
    """Every operation, valid and invalid cases, at most `max_examples` each. Valid cases use
    `path_parameters[path]` where given (a secret, a real survey token), so they get past the
    lookup; invalid ones are generated freely."""
    schema = schemathesis.openapi.from_dict(app_openapi)
    loop = asyncio.get_running_loop()
    report = FuzzReport()
    stop_at = time.monotonic() + deadline_seconds

    def send(case: schemathesis.Case) -> httpx.Response:
        body, media = _body(case)
        headers = {k: str(v) for k, v in (case.headers or {}).items()}
        if media is not None:
            headers["Content-Type"] = media
        headers.update(_credentials(case.path, body or b"", signer))
        request = http.request(
            case.method,
            case.formatted_path,
            params=case.query or None,
            headers=headers,
            content=body,
        )
        return asyncio.run_coroutine_threadsafe(request, loop).result(timeout=60)

    def exercise(operation: Any, mode: GenerationMode) -> None:
        fixed: dict[str, Any] = {}
        known = (path_parameters or {}).get(operation.path)
        if known and mode == GenerationMode.POSITIVE:
            fixed["path_parameters"] = known
        checks: list[Callable[..., Any]] = list(CHECKS)
        if mode == GenerationMode.NEGATIVE:
            checks.append(negative_data_rejection)

        @hypothesis_settings(
            max_examples=max_examples,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],  # report, do not shrink: keeps it bounded
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode, **fixed))
        def one(case: schemathesis.Case) -> None:
            if time.monotonic() > stop_at:
                return
            if mode == GenerationMode.POSITIVE:
                _reach_journeys(case)
            response = send(case)
            report.examples += 1
            report.statuses[f"{case.method} {operation.path} {response.status_code}"] += 1
            if mode == GenerationMode.POSITIVE and response.status_code == 422:
                report.refusals[_first_problem(operation.path, response)] += 1
            try:
                case.validate_response(response, checks=checks)
            except (AssertionError, BaseExceptionGroup) as exc:
                report.failures.append(f"{case.method} {operation.path} [{mode.value}]: {exc}")

        one()

    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                await asyncio.to_thread(exercise, operation, mode)
            except Unsatisfiable:
                pass  # nothing to make invalid (no parameters, no body)
            except Exception as exc:  # an error while sending: the app raised
                where = f"{operation.method} {operation.path} [{mode.value}]"
                report.failures.append(f"{where}: {exc!r}")
    return report
