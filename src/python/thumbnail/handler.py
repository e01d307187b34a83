"""The thumbnail function: shrinks an image posted through API Gateway, with OpenCV.

The request body is JSON: {"image_base64": "<PNG/JPEG/... bytes, base64>", "max_size": 128}.
The response gives the original and thumbnail dimensions and the thumbnail as base64 PNG.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import cv2
import numpy as np
from lambda_common.responses import BadRequest, body_text, error_response, json_response
from test_common_framework.utils import safe_json_loads, setup_logger

logger = setup_logger("thumbnail")

DEFAULT_MAX_SIZE = 128
MAX_SIZE_LIMIT = 1024


def make_thumbnail(image: np.ndarray, max_size: int) -> np.ndarray:
    """Fits `image` into max_size x max_size, keeping its aspect ratio; never enlarges."""
    height, width = image.shape[:2]
    scale = min(1.0, max_size / max(height, width))
    if scale == 1.0:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # INTER_AREA averages the pixels it drops, which is what shrinking wants.
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def parse_request(event: dict[str, Any]) -> tuple[np.ndarray, int]:
    payload = safe_json_loads(body_text(event))
    if not isinstance(payload, dict) or not isinstance(payload.get("image_base64"), str):
        raise BadRequest('The body must be JSON like {"image_base64": "...", "max_size": 128}.')
    max_size = payload.get("max_size", DEFAULT_MAX_SIZE)
    if not isinstance(max_size, int) or not 1 <= max_size <= MAX_SIZE_LIMIT:
        raise BadRequest(f"max_size must be a whole number from 1 to {MAX_SIZE_LIMIT}.")
    try:
        raw = base64.b64decode(payload["image_base64"], validate=True)
    except binascii.Error as e:
        raise BadRequest(f"image_base64 is not valid base64: {e}") from e
    image = cv2.imdecode(np.frombuffer(raw, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise BadRequest("image_base64 does not hold an image OpenCV can decode.")
    return image, max_size


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        image, max_size = parse_request(event)
    except BadRequest as e:
        return error_response(400, str(e))

    thumbnail = make_thumbnail(image, max_size)
    encoded, png = cv2.imencode(".png", thumbnail)
    if not encoded:
        return error_response(500, "Could not encode the thumbnail as PNG.")
    height, width = thumbnail.shape[:2]
    logger.info("Thumbnail %dx%d -> %dx%d", image.shape[1], image.shape[0], width, height)
    return json_response(
        200,
        {
            "original": {"width": image.shape[1], "height": image.shape[0]},
            "thumbnail": {"width": width, "height": height, "format": "png"},
            "thumbnail_base64": base64.b64encode(png.tobytes()).decode("ascii"),
            "opencv_version": cv2.__version__,
        },
    )
