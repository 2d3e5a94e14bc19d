"""The OpenAPI document describes every body and every answer, so a generated client works."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI

from workflows.customer_event import PAYLOAD_MODELS, CustomerEventType


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def test_every_body_and_every_answer_is_documented(app: FastAPI) -> None:
    document = app.openapi()
    schemas = document["components"]["schemas"]
    assert "x-csflow" not in json.dumps(document)
    for ref in _refs(document):
        assert ref.removeprefix("#/components/schemas/") in schemas, ref

    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = set(operation["responses"])
            if method == "post":
                assert operation["requestBody"]["content"], path
                # RFC 8058's one-click address takes any body (or none): nothing to refuse.
                invalid = set() if path == "/v1/unsubscribe/{token}" else {"422"}
                assert {"413", "503"} | invalid <= responses, (path, responses)
            if "503" in responses:
                assert "Retry-After" in operation["responses"]["503"]["headers"], path
            if "401" in responses and path in ("/v1/events", "/v1/webhooks/sendgrid/inbound"):
                assert "WWW-Authenticate" in operation["responses"]["401"]["headers"], path

    webhooks = {
        "/v1/webhooks/sendgrid/events": "SendGridEvent",
        "/v1/webhooks/support": "SupportDelivery",
        "/v1/webhooks/sendgrid/inbound": "InboundParseForm",
        "/v1/webhooks/sendgrid/inbound/{secret}": "InboundParseForm",
        "/s/{token}": "SurveyForm",
    }
    for path, model in webhooks.items():
        body = json.dumps(document["paths"][path]["post"]["requestBody"])
        assert f"#/components/schemas/{model}" in body, path


def test_each_event_type_documents_its_payload(app: FastAPI) -> None:
    document = app.openapi()
    schemas = document["components"]["schemas"]
    body = document["paths"]["/v1/events"]["post"]["requestBody"]["content"]["application/json"]
    mapping = body["schema"]["discriminator"]["mapping"]
    assert set(mapping) == {t.value for t in CustomerEventType}
    for event_type, ref in mapping.items():
        variant = schemas[ref.removeprefix("#/components/schemas/")]
        assert variant["properties"]["type"]["const"] == event_type
        payload_ref = variant["properties"]["payload"]["$ref"]
        assert payload_ref.endswith("/" + PAYLOAD_MODELS[CustomerEventType(event_type)].__name__)
    assert "EventIntake" not in schemas  # the generic envelope is not what clients send
