"""API Gateway proxy responses, shared by the sample functions."""

from __future__ import annotations

import json
from typing import Any


def json_response(status: int, body: Any) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body, sort_keys=True),
    }
