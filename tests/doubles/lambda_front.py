"""A loopback HTTP proxy in front of moto's server that behaves more like AWS, for the deploy tests
and the benchmark.

moto answers every call at once and finishes every update before it answers. Real Lambda does
neither, and a deploy tool that works only against moto can be wrong in ways moto never shows.
The front forwards every request to moto over real HTTP and adds, each one optional:

- `latency`: seconds added to every request, and `upload_bytes_per_second` for request bodies,
  so that two deploys overlap for real and the benchmark sees realistic API times;
- `rewrite`: a hook that may change a request's body on its way (to corrupt bytes in transit);
- with `update_seconds`, Lambda's function states: after CreateFunction a function is
  `State: Pending`, after UpdateFunctionCode or UpdateFunctionConfiguration it is
  `LastUpdateStatus: InProgress`, for that long; meanwhile another code or configuration update
  gets 409 `ResourceConflictException`, as on Lambda. And `RevisionId`, which moto lacks: every
  change makes a new one, and an update that sends a stale one gets 412
  `PreconditionFailedException`. PublishVersion is refused the same ways, and with a
  `CodeSha256` other than `$LATEST`'s (400 `InvalidParameterValueException`), which moto ignores.
  And as on Lambda, PublishVersion publishes nothing new when `$LATEST`'s code and configuration
  equal the latest version's: moto publishes again after any update, even one that changed
  nothing. A CreateAlias of an alias that exists gets Lambda's 409 `ResourceConflictException`
  (moto's code is `ConflictException`). And SnapStart, which moto reports off whatever it is
  told: UpdateFunctionConfiguration's `SnapStart` is kept per function (refused below
  python3.12, as Lambda refuses it), each published version keeps the setting it was published
  with, and every configuration the front returns says so.
  An alias gets a new `RevisionId` at every change, and an UpdateAlias that sends a stale one
  gets 412 (moto keeps one for ever and checks none).

See https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html.
"""

from __future__ import annotations

import contextlib
import http.client
import http.server
import json
import re
import threading
import time
import uuid
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
    ("POST", re.compile(r"/2015-03-31/functions/(?P<name>[^/?]+)/versions/?$"), "PublishVersion"),
    ("GET", re.compile(r"/2015-03-31/functions/(?P<name>[^/?]+)/versions/?$"), "ListVersionsByFunction"),
    ("POST", re.compile(r"/2015-03-31/functions/(?P<name>[^/?]+)/aliases/?$"), "CreateAlias"),
    ("GET", re.compile(r"/2015-03-31/functions/(?P<name>[^/?]+)/aliases/[^/?]+/?$"), "GetAlias"),
    ("PUT", re.compile(r"/2015-03-31/functions/(?P<name>[^/?]+)/aliases/[^/?]+/?$"), "UpdateAlias"),
    ("POST", re.compile(r"/2018-10-31/layers/(?P<name>[^/?]+)/versions/?$"), "PublishLayerVersion"),
    ("GET", re.compile(r"/2018-10-31/layers/(?P<name>[^/?]+)/versions/?$"), "ListLayerVersions"),
    ("GET", re.compile(r"/2018-10-31/layers/(?P<name>[^/?]+)/versions/\d+/?$"), "GetLayerVersion"),
]


UPDATES = ("UpdateFunctionCode", "UpdateFunctionConfiguration")
# Changes to a function that Lambda makes one at a time, and refuses while another is under way.
CHANGES = (*UPDATES, "CreateFunction", "PublishVersion")
ALIAS_CHANGES = ("CreateAlias", "UpdateAlias")
# What Lambda compares to decide that `$LATEST` is the same as its latest published version.
VERSIONED = (
    "CodeSha256",
    "Runtime",
    "Handler",
    "MemorySize",
    "Timeout",
    "Environment",
    "Architectures",
    "Role",
)


def _error(status: int, code: str, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """An error as Lambda's REST API sends it: botocore reads the code from the header."""
    body = json.dumps({"Type": "User", "message": message}).encode()
    return status, [("x-amzn-ErrorType", code), ("Content-Type", "application/json")], body


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
        update_seconds: float = 0.0,
    ) -> None:
        self.upstream = urlparse(upstream_url)
        self.latency = latency
        self.upload_bytes_per_second = upload_bytes_per_second
        self.rewrite = rewrite
        self.update_seconds = update_seconds
        self.calls: Counter[str] = Counter()  # by operation, as answered
        self.conflicts: Counter[str] = Counter()  # 409s served, by operation
        self.stale_revisions: Counter[str] = Counter()  # 412s served, by operation
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests it was answering at once
        self._lock = threading.Lock()
        self._changes = threading.Lock()
        # Per function: until when it is Pending (created) or InProgress (updated), its revision.
        self._pending_until: dict[str, float] = {}
        self._updating_until: dict[str, float] = {}
        self._revisions: dict[str, str] = {}
        self._code: dict[str, str] = {}  # CodeSha256 of each function's $LATEST, as last answered
        self._alias_revisions: dict[tuple[str, str], str] = {}
        self._runtime: dict[str, str] = {}
        self._snapstart: dict[tuple[str, str], str] = {}  # (function, version) -> ApplyOn
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
        # Polled for shutdown 20 times a second: every test starts and stops one.
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

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
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return self._handle(op, name, method, path, headers, body)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _handle(
        self, op: str, name: str | None, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        delay = self.latency
        if self.upload_bytes_per_second and body:
            delay += len(body) / self.upload_bytes_per_second
        time.sleep(delay)
        if self.rewrite is not None:
            body = self.rewrite(op, name, body)
        # Lambda takes one change to a function at a time: check, forward and record a change
        # as one step. Reads, and the latency above, stay concurrent.
        changes = self.update_seconds and op in (*CHANGES, *ALIAS_CHANGES)
        with self._changes if changes else contextlib.nullcontext():
            if changes and name is not None:
                with self._lock:
                    refusal = self._refuse_update(op, name, path, body)
                if refusal is not None:
                    return refusal
            if changes and op == "PublishVersion" and name is not None:
                unchanged = self._latest_version_if_unchanged(name, headers)
                if unchanged is not None:
                    with self._lock:
                        self.calls[op] += 1
                        self._with_snapstart(name, unchanged)
                    return 201, [("Content-Type", "application/json")], json.dumps(unchanged).encode()
            status, response_headers, data = self.forward(method, path, headers, body)
            error_type = {k.lower(): v for k, v in response_headers}.get("x-amzn-errortype", "")
            if op == "CreateAlias" and error_type.startswith("ConflictException"):
                return _error(409, "ResourceConflictException", json.loads(data or b"{}").get("message", ""))
            with self._lock:
                self.calls[op] += 1
                if self.update_seconds and 200 <= status < 300:
                    data = self._lambda_states(op, name, body, data)
        return status, response_headers, data

    # --- What Lambda does and moto does not -------------------------------------------------

    def _refuse_update(
        self, op: str, name: str, path: str, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes] | None:
        request = json.loads(body or b"{}")
        if op in ALIAS_CHANGES:
            return self._refuse_alias_update(op, name, path, request)
        now = time.monotonic()
        if now < self._pending_until.get(name, 0) or now < self._updating_until.get(name, 0):
            self.conflicts[op] += 1
            return _error(
                409,
                "ResourceConflictException",
                f"The operation cannot be performed at this time. An update is in progress for "
                f"resource: {name}",
            )
        sent = request.get("RevisionId")
        if sent is not None and sent != self._revision(name):
            return self._stale(op)
        runtime = self._runtime.get(name, "")
        python = tuple(int(part) for part in re.findall(r"[0-9]+", runtime))
        if op == "UpdateFunctionConfiguration" and "SnapStart" in request and python < (3, 12):
            return _error(
                400,
                "InvalidParameterValueException",
                f"{runtime} does not support SnapStart.",
            )
        code = request.get("CodeSha256")
        if op == "PublishVersion" and code is not None and name in self._code and code != self._code[name]:
            self.stale_revisions[op] += 1
            return _error(
                400,
                "InvalidParameterValueException",
                f"CodeSHA256 ({code}) is different from current CodeSHA256 in $LATEST "
                f"({self._code[name]}). Please try again with the CodeSHA256 in $LATEST.",
            )
        return None

    def _stale(self, op: str) -> tuple[int, list[tuple[str, str]], bytes]:
        self.stale_revisions[op] += 1
        return _error(
            412,
            "PreconditionFailedException",
            "The Revision Id provided does not match the latest Revision Id. Call the "
            "GetFunction/GetAlias API to retrieve the latest Revision Id",
        )

    def _refuse_alias_update(
        self, op: str, name: str, path: str, request: dict[str, Any]
    ) -> tuple[int, list[tuple[str, str]], bytes] | None:
        alias = (
            request.get("Name")
            if op == "CreateAlias"
            else unquote(urlparse(path).path.rstrip("/").rsplit("/", 1)[1])
        )
        sent = request.get("RevisionId")
        current = self._alias_revisions.get((name, alias))
        if op == "UpdateAlias" and sent is not None and current is not None and sent != current:
            return self._stale(op)
        return None

    def _revision(self, name: str) -> str:
        # A function created behind the front's back gets a revision when first seen.
        return self._revisions.setdefault(name, str(uuid.uuid4()))

    def _lambda_states(self, op: str, name: str | None, request: bytes, data: bytes) -> bytes:
        if op == "CreateFunction":
            name = json.loads(request)["FunctionName"]
        if name is not None and op in (*ALIAS_CHANGES, "GetAlias"):
            return self._alias_revision(op, name, data)
        if name is not None and op in ("PublishVersion", "ListVersionsByFunction"):
            response = json.loads(data)
            for configuration in response.get("Versions", [response]):
                if op == "PublishVersion":
                    self._snapstart[(name, configuration["Version"])] = self._apply_on(name, "$LATEST")
                self._with_snapstart(name, configuration)
            return json.dumps(response).encode()
        if name is None or op not in (*UPDATES, "CreateFunction", "GetFunction", "GetFunctionConfiguration"):
            return data
        now = time.monotonic()
        if op == "CreateFunction":
            self._pending_until[name] = now + self.update_seconds
        if op in UPDATES:
            self._updating_until[name] = now + self.update_seconds
        if op in (*UPDATES, "CreateFunction"):
            self._revisions[name] = str(uuid.uuid4())
        response = json.loads(data)
        configuration = response["Configuration"] if op == "GetFunction" else response
        if configuration.get("Version", "$LATEST") == "$LATEST" and "CodeSha256" in configuration:
            self._code[name] = configuration["CodeSha256"]
            self._runtime[name] = configuration.get("Runtime", "")
        sent = json.loads(request or b"{}").get("SnapStart") if op == "UpdateFunctionConfiguration" else None
        if sent is not None:
            self._snapstart[(name, "$LATEST")] = sent.get("ApplyOn", "None")
        self._with_snapstart(name, configuration)
        pending = now < self._pending_until.get(name, 0)
        configuration["State"] = "Pending" if pending else "Active"
        if pending:
            configuration.pop("LastUpdateStatus", None)
        else:
            updating = now < self._updating_until.get(name, 0)
            configuration["LastUpdateStatus"] = "InProgress" if updating else "Successful"
        configuration["RevisionId"] = self._revision(name)
        return json.dumps(response).encode()

    def _latest_version_if_unchanged(self, name: str, headers: dict[str, str]) -> dict[str, Any] | None:
        """The latest published version, if `$LATEST` has the same code and configuration."""
        signed = {k: v for k, v in headers.items() if k.lower() in ("authorization", "x-amz-date")}
        status, _, data = self.forward("GET", f"/2015-03-31/functions/{name}/versions", signed, b"")
        if status != 200:
            return None
        versions = json.loads(data)["Versions"]
        latest = next((v for v in versions if v["Version"] == "$LATEST"), None)
        published = sorted(
            (v for v in versions if v["Version"] != "$LATEST"), key=lambda v: int(v["Version"])
        )
        if latest is None or not published:
            return None

        def content(configuration: dict[str, Any]) -> tuple:
            layers = tuple(layer["Arn"] for layer in configuration.get("Layers", []))
            return (layers, *(json.dumps(configuration.get(key), sort_keys=True) for key in VERSIONED))

        if self._apply_on(name, "$LATEST") != self._apply_on(name, published[-1]["Version"]):
            return None
        return published[-1] if content(latest) == content(published[-1]) else None

    def _apply_on(self, name: str, version: str) -> str:
        return self._snapstart.get((name, version), "None")

    def _with_snapstart(self, name: str, configuration: dict[str, Any]) -> None:
        version = configuration.get("Version", "$LATEST")
        apply_on = self._apply_on(name, version)
        on = apply_on == "PublishedVersions" and version != "$LATEST"
        configuration["SnapStart"] = {"ApplyOn": apply_on, "OptimizationStatus": "On" if on else "Off"}

    def _alias_revision(self, op: str, name: str, data: bytes) -> bytes:
        response = json.loads(data)
        key = (name, response["Name"])
        if op in ALIAS_CHANGES or key not in self._alias_revisions:
            self._alias_revisions[key] = str(uuid.uuid4())
        response["RevisionId"] = self._alias_revisions[key]
        return json.dumps(response).encode()

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
