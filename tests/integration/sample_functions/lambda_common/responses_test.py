from __future__ import annotations

import json

from lambda_common.responses import json_response


def test_the_body_is_json() -> None:
    response = json_response(201, {"b": 1, "a": [2]})

    assert response["statusCode"] == 201
    assert json.loads(response["body"]) == {"a": [2], "b": 1}
