"""Fixtures shared by the functions' unit tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

import pytest


@dataclass
class FakeLambdaContext:
    """The attributes of Lambda's context object that our handlers read."""

    function_name: str = "test-function"
    aws_request_id: str = "context-request-id"
    memory_limit_in_mb: int = 512

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture
def api_event() -> Callable[..., dict[str, Any]]:
    """Builds an API Gateway REST proxy event with a JSON (or raw string) body."""

    def build(body: Any, method: str = "POST", request_id: str = "req-1") -> dict[str, Any]:
        return {
            "httpMethod": method,
            "path": "/",
            "headers": {"Content-Type": "application/json"},
            "requestContext": {"requestId": request_id},
            "body": body if isinstance(body, str) or body is None else json.dumps(body),
            "isBase64Encoded": False,
        }

    return build
