"""Events and payloads the tests send to the example functions: an API Gateway proxy request, and
a real PNG for the thumbnail function (written by hand: the tests' own environment has no OpenCV)."""

from __future__ import annotations

import json
import struct
import zlib


def api_event(body: object, request_id: str = "test-request") -> dict:
    """An API Gateway (REST, proxy integration) POST to /orders with `body` as JSON."""
    return {
        "httpMethod": "POST",
        "path": "/orders",
        "requestContext": {"requestId": request_id},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def png(width: int, height: int) -> bytes:
    """A real RGB PNG of a gradient."""
    raw = b"".join(
        b"\x00" + b"".join(bytes((x * 255 // width, y * 255 // height, 128)) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
