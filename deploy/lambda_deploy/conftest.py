"""A real emulator over HTTP, real artifacts built by Pants, and the deploy CLI as people run it."""

from __future__ import annotations

import http.client
import http.server
import io
import json
import shutil
import threading
import zipfile
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from lambda_artifacts.artifact_zip import write_zip
from lambda_deploy.aws import Aws, make_clients
from lambda_deploy.cli import main
from lambda_deploy.emulator import LOCAL_CREDENTIALS, LocalEmulator

REGION = "eu-west-1"
BUCKET = "test-artifacts"

# Where runtime_package_dependencies put the packages in the test sandbox.
BUILT = {
    "pypi": Path("3rdparty.python/pypi.zip"),
    "framework": Path("3rdparty.python/framework.zip"),
    "api-handler": Path("src.python.api_handler/lambda.zip"),
    "thumbnail": Path("src.python.thumbnail/lambda.zip"),
}
LAYER_NAMES = {"pypi": "test-pypi", "framework": "test-framework"}
FUNCTIONS = ("api-handler", "thumbnail")


@dataclass
class Run:
    exit_code: int
    summary: dict[str, Any] | None
    output: str  # what a person reads (stderr with --json)


class Workspace:
    """A deploy.toml and copies of the built artifacts that a test may change."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.artifacts = {}
        for key, built in BUILT.items():
            copy = root / "dist" / built
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(built, copy)
            self.artifacts[key] = copy
        self.extra_layers: dict[str, Path] = {}
        self.write_config()

    def write_config(self, function_layers: list[str] | None = None) -> Path:
        layers = {**{k: self.artifacts[k] for k in LAYER_NAMES}, **self.extra_layers}
        lines = [f'region = "{REGION}"', "[s3]", f'bucket = "{BUCKET}"', 'prefix = "artifacts/"']
        for key, path in layers.items():
            lines += [
                f"[layers.{key}]",
                f'name = "{LAYER_NAMES.get(key, "test-" + key)}"',
                f'artifact = "{path}"',
                'compatible_runtimes = ["python3.11"]',
            ]
        lines += ["[function_defaults]", 'runtime = "python3.11"', 'architecture = "x86_64"']
        lines += ['handler = "lambda_function.handler"', "memory_mb = 512", "timeout_seconds = 15"]
        for name in FUNCTIONS:
            chosen = function_layers or ["pypi", "framework"]
            lines += [
                f'[functions."{name}"]',
                f'artifact = "{self.artifacts[name]}"',
                f"layers = {json.dumps(chosen)}",
            ]
        self.config = self.root / "deploy.toml"
        self.config.write_text("\n".join(lines) + "\n")
        return self.config

    def edit(self, key: str, member: str, change) -> None:
        """Rebuilds artifact `key` with one file changed, with the same zipper Pants uses."""
        tree = self.root / f"tree-{key}"
        shutil.rmtree(tree, ignore_errors=True)
        with zipfile.ZipFile(self.artifacts[key]) as zf:
            zf.extractall(tree)
        path = tree / member
        path.write_text(change(path.read_text()))
        write_zip(str(tree), str(self.artifacts[key]))

    def deploy(self, *args: str) -> Run:
        """Runs the CLI in this process, as `./pants run deploy -- ARGS --json` would."""
        stdout, stderr = io.StringIO(), io.StringIO()
        with redirect_stdout(stdout), redirect_stderr(stderr):
            code = main([*args, "--json", "--config", str(self.config)])
        return Run(code, json.loads(stdout.getvalue()) if stdout.getvalue() else None, stderr.getvalue())


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path)


@pytest.fixture
def emulator() -> Iterator[LocalEmulator]:
    with LocalEmulator() as running:
        yield running


@pytest.fixture
def aws(emulator: LocalEmulator) -> Aws:
    return make_clients(REGION, emulator.endpoint_url, LOCAL_CREDENTIALS)


def create_infrastructure(aws: Aws, bucket: str, functions: tuple[str, ...]) -> None:
    """What infrastructure code creates before the first deploy: the bucket and the functions,
    with placeholder code and no layers."""
    aws.create_bucket(bucket)
    role = aws.ensure_role("test-role")
    placeholder = io.BytesIO()
    with zipfile.ZipFile(placeholder, "w") as zf:
        zf.writestr("lambda_function.py", "def handler(event, context):\n    return None\n")
    for name in functions:
        aws.lambda_client.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=role,
            Handler="lambda_function.handler",
            Code={"ZipFile": placeholder.getvalue()},
        )


@pytest.fixture
def infrastructure(aws: Aws) -> None:
    create_infrastructure(aws, BUCKET, FUNCTIONS)


class ThrottlingProxy:
    """Forwards HTTP to the emulator, but answers the first `throttle` Lambda API requests with
    429 TooManyRequestsException, as Lambda does when an account's request rate is exceeded."""

    def __init__(self, target_url: str, throttle: int) -> None:
        self.remaining = throttle
        self.throttled = 0
        target = urlparse(target_url)
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.startswith(("/2015-03-31/", "/2018-10-31/")) and proxy.remaining > 0:
                    proxy.remaining -= 1
                    proxy.throttled += 1
                    payload = b'{"Type":"User","message":"Rate exceeded"}'
                    self.send_response(429)
                    self.send_header("x-amzn-ErrorType", "TooManyRequestsException")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=300)
                upstream.request(self.command, self.path, body=body, headers=dict(self.headers))
                response = upstream.getresponse()
                data = response.read()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
