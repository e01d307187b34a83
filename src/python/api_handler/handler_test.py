from __future__ import annotations

import base64
import io
import json
import logging
from typing import Any, Callable

import pytest
from api_handler import handler as api
from api_handler.handler import attach_cloudwatch_handler, handler

ORDER = {
    "customer": {"name": " Ada Lovelace ", "email": "ada@example.com"},
    "items": [
        {"sku": "NOTE-BOOK", "quantity": 2, "unit_price": "3.50"},
        {"sku": "PEN-01", "quantity": 3, "unit_price": 1.25},
    ],
    "currency": "GBP",
}

Event = Callable[..., "dict[str, Any]"]


def body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def test_prices_a_valid_order(api_event: Event, lambda_context: Any) -> None:
    response = handler(api_event(ORDER, request_id="abc-123"), lambda_context)

    assert response["statusCode"] == 200
    assert body(response) == {
        "request_id": "abc-123",
        "customer": "Ada Lovelace",
        "item_count": 5,
        "total": "10.75",
        "currency": "GBP",
        "framework_version": "0.1.5+sample",
    }


def test_reads_base64_bodies(api_event: Event, lambda_context: Any) -> None:
    event = api_event(ORDER)
    event["body"] = base64.b64encode(event["body"].encode()).decode()
    event["isBase64Encoded"] = True

    assert handler(event, lambda_context)["statusCode"] == 200


def test_falls_back_to_the_context_request_id(api_event: Event, lambda_context: Any) -> None:
    event = api_event(ORDER)
    del event["requestContext"]

    assert body(handler(event, lambda_context))["request_id"] == "context-request-id"


@pytest.mark.parametrize("raw", ["{not json", "", None])
def test_rejects_a_body_that_is_not_json(raw: str | None, api_event: Event, lambda_context: Any) -> None:
    response = handler(api_event(raw), lambda_context)

    assert response["statusCode"] == 400
    assert "JSON object" in body(response)["error"]


def test_reports_every_validation_error(api_event: Event, lambda_context: Any) -> None:
    bad = {**ORDER, "items": [{"sku": "x", "quantity": 0, "unit_price": "1.999"}], "currency": "JPY"}

    response = handler(api_event(bad), lambda_context)

    assert response["statusCode"] == 422
    failed = {detail["loc"] for detail in body(response)["details"]}
    assert failed == {"items.0.sku", "items.0.quantity", "items.0.unit_price", "currency"}


def test_rejects_unknown_fields(api_event: Event, lambda_context: Any) -> None:
    response = handler(api_event({**ORDER, "discount": "100%"}), lambda_context)

    assert response["statusCode"] == 422
    assert body(response)["details"] == [{"loc": "discount", "msg": "Extra inputs are not permitted"}]


def test_only_accepts_post(api_event: Event, lambda_context: Any) -> None:
    response = handler(api_event(ORDER, method="GET"), lambda_context)

    assert response["statusCode"] == 405


def test_logs_through_the_framework_logger(api_event: Event, lambda_context: Any) -> None:
    # The framework's logger writes to stderr, which Lambda sends to CloudWatch Logs.
    (stream_handler,) = (h for h in api.logger.handlers if isinstance(h, logging.StreamHandler))
    captured = io.StringIO()
    original = stream_handler.setStream(captured)
    try:
        handler(api_event(ORDER, request_id="log-me"), lambda_context)
    finally:
        stream_handler.setStream(original)

    assert "INFO api_handler Priced order log-me: 2 items, 10.75 GBP" in captured.getvalue()


def test_cloudwatch_is_off_unless_a_log_group_is_configured() -> None:
    assert attach_cloudwatch_handler(logging.getLogger("unused"), None) is None
    assert not any(type(h).__name__ == "CloudWatchLogHandler" for h in api.logger.handlers)


def test_cloudwatch_handler_targets_the_configured_log_group(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    target = logging.getLogger("cloudwatch-test")

    cloudwatch = attach_cloudwatch_handler(target, "/team/audit")

    try:
        assert cloudwatch in target.handlers
        assert cloudwatch.log_group_name == "/team/audit"
    finally:
        target.removeHandler(cloudwatch)
        cloudwatch.close()
