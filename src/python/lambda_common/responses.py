"""API Gateway (REST, proxy integration) request and response helpers shared by the functions.

See https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

JSON_HEADERS = {"Content-Type": "application/json"}


class BadRequest(ValueError):
    """The request cannot be handled as sent; the message is safe to return to the caller."""


def json_response(status_code: int, body: Any, headers: Mapping[str, str] | None = None) -> dict:
    """A proxy-integration response with a JSON body."""
    return {
        "statusCode": status_code,
        "headers": {**JSON_HEADERS, **(headers or {})},
        "body": json.dumps(body, sort_keys=True, default=str),
        "isBase64Encoded": False,
    }


def error_response(status_code: int, message: str, details: Any = None) -> dict:
    body: dict[str, Any] = {"error": message}
    if details is not None:
        body["details"] = details
    return json_response(status_code, body)


def body_text(event: Mapping[str, Any]) -> str | None:
    """The request body as text, decoding API Gateway's base64 form for binary media types."""
    body = event.get("body")
    if body is None or not event.get("isBase64Encoded"):
        return body
    try:
        return base64.b64decode(body, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as e:
        raise BadRequest(f"The body is marked base64 but does not decode to UTF-8 text: {e}") from e
