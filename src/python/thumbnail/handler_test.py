from __future__ import annotations

import base64
import json
from typing import Any, Callable

import cv2
import numpy as np
import pytest
from thumbnail.handler import handler, make_thumbnail

Event = Callable[..., "dict[str, Any]"]


def png_base64(width: int, height: int) -> str:
    gradient = np.tile(np.linspace(0, 255, width, dtype=np.uint8), (height, 1))
    image = cv2.merge([gradient, gradient[::-1], np.full_like(gradient, 80)])
    ok, png = cv2.imencode(".png", image)
    assert ok
    return base64.b64encode(png.tobytes()).decode()


def body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def test_makes_a_png_thumbnail_that_keeps_the_aspect_ratio(api_event: Event, lambda_context: Any) -> None:
    response = handler(api_event({"image_base64": png_base64(400, 200), "max_size": 100}), lambda_context)

    assert response["statusCode"] == 200
    result = body(response)
    assert result["original"] == {"width": 400, "height": 200}
    assert result["thumbnail"] == {"width": 100, "height": 50, "format": "png"}
    decoded = cv2.imdecode(
        np.frombuffer(base64.b64decode(result["thumbnail_base64"]), np.uint8), cv2.IMREAD_COLOR
    )
    assert decoded.shape == (50, 100, 3)


def test_never_enlarges() -> None:
    small = np.zeros((10, 20, 3), dtype=np.uint8)

    assert make_thumbnail(small, 128).shape == (10, 20, 3)


def test_defaults_to_128_pixels(api_event: Event, lambda_context: Any) -> None:
    response = handler(api_event({"image_base64": png_base64(300, 600)}), lambda_context)

    assert body(response)["thumbnail"] == {"width": 64, "height": 128, "format": "png"}


@pytest.mark.parametrize(
    "payload, message",
    [
        ({"image_base64": base64.b64encode(b"not an image").decode()}, "does not hold an image"),
        ({"image_base64": "%%%"}, "not valid base64"),
        ({"image_base64": png_base64(4, 4), "max_size": 0}, "max_size"),
        ({"image_base64": png_base64(4, 4), "max_size": "big"}, "max_size"),
        ({"picture": "x"}, "image_base64"),
    ],
)
def test_rejects_bad_requests(
    payload: dict[str, Any], message: str, api_event: Event, lambda_context: Any
) -> None:
    response = handler(api_event(payload), lambda_context)

    assert response["statusCode"] == 400
    assert message in body(response)["error"]
