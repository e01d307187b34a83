"""A loopback HTTP proxy in front of moto's server that behaves more like AWS, for the deploy tests
and the benchmark.

moto answers every call at once and finishes every update before it answers. Real Lambda does
neither, and a deploy tool that works only against moto can be wrong in ways moto never shows.
The front forwards every request to moto over real HTTP and adds, each one optional:

- `latency`: seconds added to every request, and `upload_bytes_per_second` for request bodies,
  so that two deploys overlap for real and the benchmark sees realistic API times;
- `rewrite`: a hook that may change a request's body on its way (to corrupt bytes in transit).
"""

from __future__ import annotations

import http.client
import http.server
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlparse

# Lambda's REST paths, by operation. Anything else (S3, IAM) is forwarded as it is.
OPERATIONS = [
    ("POST", re.compile(r"/2015-03-31/functions/?$"), "CreateFunction"),
    ("GET", re.compile(r"/2015-03-31/functions/(?P<name>[^/?]+)/?$"), "GetFunction"),
    (
        "GET",
        re.compile(r"/2015-03-31/functions/(?P<name>[^/?]+)/configuration/?$"),
        "GetFunctionConfiguration",
    ),
    (
        "PUT",
        re.compile(r"/2015-03-31/functions/(?P<name>[^/?]+)/configuration/?$"),
        "UpdateFunctionConfiguration",
    ),
    ("PUT", re.compile(r"/2015-03-31/functions/(?P<name>[^/?]+)/code/?$"), "UpdateFunctionCode"),
    ("POST", re.compile(r"/2018-10-31/layers/(?P<name>[^/?]+)/versions/?$"), "PublishLayerVersion"),
    ("GET", re.compile(r"/2018-10-31/layers/(?P<name>[^/?]+)/versions/?$"), "ListLayerVersions"),
    ("GET", re.compile(r"/2018-10-31/layers/(?P<name>[^/?]+)/versions/\d+/?$"), "GetLayerVersion"),
]


def operation(method: str, path: str) -> tuple[str, str | None]:
    """The Lambda operation a request is, and the function or layer it names."""
    bare = urlparse(path).path
    for verb, pattern, name in OPERATIONS:
        match = pattern.match(bare)
        if verb == method and match:
            return name, unquote(match.group("name")) if "name" in pattern.groupindex else None
    return "other", None


# What a rewrite hook gets: the operation, the function or layer it names, and the body.
Rewrite = Callable[[str, "str | None", bytes], bytes]


class LambdaFront:
    def __init__(
        self,
        upstream_url: str,
        *,
        latency: float = 0.0,
        upload_bytes_per_second: float | None = None,
        rewrite: Rewrite | None = None,
    ) -> None:
        self.upstream = urlparse(upstream_url)
        self.latency = latency
        self.upload_bytes_per_second = upload_bytes_per_second
        self.rewrite = rewrite
        self.calls: Counter[str] = Counter()  # by operation, as answered
        self._lock = threading.Lock()
        front = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as boto3 expects of AWS

            def log_message(self, *args: Any) -> None:
                pass

            def handle_one(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, headers, data = front.handle(self.command, self.path, dict(self.headers), body)
                self.send_response(status)
                for key, value in headers:
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_one

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def __enter__(self) -> LambdaFront:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        op, name = operation(method, path)
        delay = self.latency
        if self.upload_bytes_per_second and body:
            delay += len(body) / self.upload_bytes_per_second
        time.sleep(delay)
        if self.rewrite is not None:
            body = self.rewrite(op, name, body)
        status, response_headers, data = self.forward(method, path, headers, body)
        with self._lock:
            self.calls[op] += 1
        return status, response_headers, data

    def forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        upstream = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=300)
        try:
            # http.client sets the length of the body it sends, which a rewrite may have changed;
            # the front already answered any `Expect: 100-continue` itself.
            headers = {k: v for k, v in headers.items() if k.lower() not in ("content-length", "expect")}
            upstream.request(method, path, body=body, headers=headers)
            response = upstream.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            upstream.close()
