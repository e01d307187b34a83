import base64
import json

import pytest
from lambda_common.responses import BadRequest, body_text, error_response, json_response


def test_json_response_is_an_api_gateway_proxy_response() -> None:
    response = json_response(201, {"b": 1, "a": [1, 2]}, headers={"X-Request-Id": "r1"})

    assert response["statusCode"] == 201
    assert response["headers"] == {"Content-Type": "application/json", "X-Request-Id": "r1"}
    assert response["isBase64Encoded"] is False
    assert response["body"] == '{"a": [1, 2], "b": 1}'


def test_error_response_carries_message_and_details() -> None:
    body = json.loads(error_response(422, "invalid", details=[{"loc": "x"}])["body"])

    assert body == {"error": "invalid", "details": [{"loc": "x"}]}
    assert "details" not in json.loads(error_response(400, "bad")["body"])


def test_body_text_passes_plain_bodies_through() -> None:
    assert body_text({"body": '{"a": 1}'}) == '{"a": 1}'
    assert body_text({}) is None


def test_body_text_decodes_base64_bodies() -> None:
    encoded = base64.b64encode('{"name": "Zoë"}'.encode()).decode()

    assert body_text({"body": encoded, "isBase64Encoded": True}) == '{"name": "Zoë"}'


def test_body_text_rejects_broken_base64() -> None:
    with pytest.raises(BadRequest, match="base64"):
        body_text({"body": "not base64!", "isBase64Encoded": True})
