"""A sample function: pydantic from the PyPI layer, the framework from its layer, no numpy."""

from __future__ import annotations

from typing import Any

from lambda_common.responses import json_response
from pydantic import BaseModel
from test_common_framework import get_version


class Greeting(BaseModel):
    name: str = "world"


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    greeting = Greeting.model_validate(event)
    return json_response(200, {"hello": greeting.name, "framework": get_version()})
