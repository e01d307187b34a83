"""A sample function: numpy and OpenCV from the PyPI layer, the framework from its layer."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from lambda_common.responses import json_response
from test_common_framework.utils import setup_logger

logger = setup_logger("thumbnail")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    size = int(event.get("size", 2))
    thumbnail = cv2.resize(np.zeros((8, 8, 3), dtype=np.uint8), (size, size))
    logger.info("thumbnail of %s", thumbnail.shape)
    return json_response(200, {"shape": list(thumbnail.shape)})
