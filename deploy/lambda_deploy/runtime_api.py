"""A local Lambda Runtime API that serves exactly one invocation.

Lambda runs a function's runtime (for Python, AWS's runtime interface client, `awslambdaric`)
against an HTTP API at `AWS_LAMBDA_RUNTIME_API`. The runtime initialises (imports the handler),
asks for the next event, runs the handler and posts its response or error, then asks again.
See https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html.

`RuntimeApi` speaks that API on 127.0.0.1 (an ephemeral port) for one event. It records when
the runtime first asked for an event (the end of init), when it handed the event out and when
the response, the invocation error or the init error came back. A second `next` is held open
until the server closes, as Lambda holds it until the next event: whoever started the runtime
stops it then. Standard library only.
"""

from __future__ import annotations

import http.server
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

API_VERSION = "2018-06-01"
NEXT = f"/{API_VERSION}/runtime/invocation/next"
INIT_ERROR = f"/{API_VERSION}/runtime/init/error"
INVOCATION_RESULT = re.compile(rf"^/{API_VERSION}/runtime/invocation/(?P<id>[^/]+)/(?P<kind>response|error)$")
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"


@dataclass
class Outcome:
    """What the runtime posted back. Times are `time.monotonic()` seconds, None if not reached."""

    kind: str | None = None  # "response", "error" (the handler's) or "init_error"
    body: bytes = b""
    error_type_header: str | None = None
    first_next_at: float | None = None
    handed_out_at: float | None = None
    finished_at: float | None = None

    @property
    def error(self) -> dict[str, Any] | None:
        """The error document (errorMessage, errorType, stackTrace) of an error outcome."""
        if self.kind not in ("error", "init_error"):
            return None
        try:
            document = json.loads(self.body)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            document = {"errorMessage": self.body.decode("utf-8", "replace")}
        if "errorType" not in document and self.error_type_header:
            document["errorType"] = self.error_type_header
        return document


class _Server(http.server.ThreadingHTTPServer):
    # A held `next` must not keep the server (or the interpreter) from closing.
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The runtime is stopped (killed) mid-connection after its one invocation: expected.
        pass


class RuntimeApi:
    """Serves one event to one runtime. Use as a context manager; `address` is host:port."""

    def __init__(
        self,
        event: bytes,
        *,
        function_arn: str,
        timeout_seconds: float,
        request_id: str | None = None,
        client_context: str | None = None,
        cognito_identity: str | None = None,
    ) -> None:
        self.event = event
        self.function_arn = function_arn
        self.timeout_seconds = timeout_seconds
        self.request_id = request_id or str(uuid.uuid4())
        # X-Ray's trace header format: Root=1-<epoch seconds, hex>-<96 random bits, hex>.
        self.trace_id = f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0"
        self.client_context = client_context
        self.cognito_identity = cognito_identity
        self.outcome = Outcome()
        self.finished = threading.Event()
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._handed_out = False
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def __enter__(self) -> RuntimeApi:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def wait(self, timeout: float | None = None) -> bool:
        """Waits for the response, the invocation error or the init error."""
        return self.finished.wait(timeout)

    # The request handling, one thread per connection.

    def _next(self) -> tuple[int, dict[str, str], bytes] | None:
        with self._lock:
            now = time.monotonic()
            if self.outcome.first_next_at is None:
                self.outcome.first_next_at = now
            if self._handed_out:
                return None
            self._handed_out = True
            self.outcome.handed_out_at = now
        deadline_ms = int((time.time() + self.timeout_seconds) * 1000)
        headers = {
            "Content-Type": "application/json",
            "Lambda-Runtime-Aws-Request-Id": self.request_id,
            "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": self.function_arn,
            "Lambda-Runtime-Trace-Id": self.trace_id,
        }
        if self.client_context is not None:
            headers["Lambda-Runtime-Client-Context"] = self.client_context
        if self.cognito_identity is not None:
            headers["Lambda-Runtime-Cognito-Identity"] = self.cognito_identity
        return 200, headers, self.event

    def _finish(self, kind: str, body: bytes, error_type: str | None) -> tuple[int, str]:
        with self._lock:
            if self.outcome.kind is not None:
                return 400, "InvalidStateTransition"
            self.outcome.kind = kind
            self.outcome.body = body
            self.outcome.error_type_header = error_type
            self.outcome.finished_at = time.monotonic()
        self.finished.set()
        return 202, "OK"

    def _post(self, path: str, body: bytes, error_type: str | None) -> tuple[int, str]:
        if path == INIT_ERROR:
            if self._handed_out:
                return 403, "InvalidStateTransition"
            return self._finish("init_error", body, error_type)
        match = INVOCATION_RESULT.match(path)
        if match is None:
            return 404, "NotFound"
        if not self._handed_out or match["id"] != self.request_id:
            return 400, "InvalidRequestID"
        return self._finish(match["kind"], body, error_type)

    def _handler_class(self) -> type[http.server.BaseHTTPRequestHandler]:
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            # HTTP/1.1: keep-alive, and `Expect: 100-continue`, which libcurl (inside
            # awslambdaric's runtime_client) sends before larger bodies.
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def status(self, status: int, message: str) -> None:
                body = json.dumps({"status": message}).encode()
                self.reply(status, {"Content-Type": "application/json"}, body)

            def read_body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass  # trailers
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def do_GET(self) -> None:
                if self.path != NEXT:
                    self.status(404, "NotFound")
                    return
                served = api._next()
                if served is None:
                    # The one event was handed out: hold this request, as Lambda does between
                    # events, until the server closes and the runtime is stopped.
                    api._closing.wait()
                    self.close_connection = True
                    return
                self.reply(*served)

            def do_POST(self) -> None:
                body = self.read_body()
                status, message = api._post(self.path, body, self.headers.get(ERROR_TYPE_HEADER))
                self.status(status, message)

        return Handler
