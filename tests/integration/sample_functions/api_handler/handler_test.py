from __future__ import annotations

import json

from api_handler.handler import handler


def test_it_greets_by_name() -> None:
    response = handler({"name": "Ada"}, None)

    assert response["statusCode"] == 200
    assert json.loads(response["body"])["hello"] == "Ada"
