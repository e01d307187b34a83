"""The API handler: prices an order posted through API Gateway.

It parses the event with the framework's helpers, validates the order with pydantic, logs
through the framework's logger (and to a CloudWatch Logs group via watchtower when
CLOUDWATCH_LOG_GROUP is set), and answers with an API Gateway proxy response.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from api_handler.models import OrderRequest
from lambda_common.responses import BadRequest, body_text, error_response, json_response
from pydantic import ValidationError
from test_common_framework import get_version
from test_common_framework.utils import get_nested_value, safe_json_loads, setup_logger

logger = setup_logger("api_handler")


def attach_cloudwatch_handler(target: logging.Logger, log_group: str | None) -> logging.Handler | None:
    """Also ship `target`'s records to `log_group`, e.g. a shared audit group.

    Lambda already sends stderr to the function's own log group; this is for a second one.
    The log group must exist: creating it would need more IAM rights than logging does.
    """
    if not log_group:
        return None
    import watchtower  # Only functions that use it pay for importing boto3's logs client.

    cloudwatch = watchtower.CloudWatchLogHandler(log_group_name=log_group, create_log_group=False)
    target.addHandler(cloudwatch)
    return cloudwatch


attach_cloudwatch_handler(logger, os.environ.get("CLOUDWATCH_LOG_GROUP"))


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request_id = get_nested_value(event, "requestContext.requestId") or getattr(
        context, "aws_request_id", None
    )
    method = get_nested_value(event, "httpMethod", default="POST")
    if method != "POST":
        return error_response(405, f"Use POST to price an order, not {method}.")

    try:
        payload = safe_json_loads(body_text(event))
    except BadRequest as e:
        return error_response(400, str(e))
    if payload is None:
        return error_response(400, "The body must be a JSON object describing the order.")

    try:
        order = OrderRequest.model_validate(payload)
    except ValidationError as e:
        logger.info("Rejected order %s: %d validation errors", request_id, e.error_count())
        details = [
            {"loc": ".".join(map(str, error["loc"])), "msg": error["msg"]}
            for error in e.errors(include_url=False)
        ]
        return error_response(422, "The order is not valid.", details)

    logger.info("Priced order %s: %d items, %s %s", request_id, len(order.items), order.total, order.currency)
    return json_response(
        200,
        {
            "request_id": request_id,
            "customer": order.customer.name,
            "item_count": sum(item.quantity for item in order.items),
            "total": f"{order.total:.2f}",
            "currency": order.currency,
            "framework_version": get_version(),
        },
    )
