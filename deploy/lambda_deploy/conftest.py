"""A real emulator over HTTP, real artifacts built by Pants, and the deploy CLI as people run it."""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import http.server
import importlib.util
import io
import json
import os
import py_compile
import shutil
import subprocess
import sys
import threading
import zipfile
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from botocore.awsrequest import AWSResponse
from doubles.lambda_front import LambdaFront
from lambda_artifacts.artifact_zip import write_zip
from lambda_artifacts.metadata import AWS_HANDLER
from lambda_deploy import aws as aws_module
from lambda_deploy import cli, plan
from lambda_deploy.aws import Aws, make_clients
from lambda_deploy.cli import main
from lambda_deploy.config import DeployConfig, function_name, layer_name
from lambda_deploy.emulator import LOCAL_CREDENTIALS, LocalEmulator
from lambda_deploy.iam import deploy_policy
from lambda_deploy.iam_rules import (
    EMULATOR_ACCOUNT,
    EMULATOR_ONLY,
    Permission,
    UnknownCall,
    allows,
    required,
    without,
)
from lambda_deploy.plan import DeployTarget

REGION = "eu-west-1"
BUCKET = "test-artifacts"
# Every test but the --local ones starts where real AWS would: bucket and functions exist.
with_infrastructure = pytest.mark.usefixtures("infrastructure")

# Where runtime_package_dependencies put the built artifacts: the sandbox's root, laid out as
# `./pants package` lays out dist/. Their metadata is as built: it lists every function in the
# BUILD files (`repository_functions`), built here or not.
BUILT_DIST = Path(".")
BUILT_METADATA = sorted(BUILT_DIST.glob("*/*.metadata.json"))
# The AWS names deploy.toml's naming convention gives them here (layers get the prefix "test-").
LAYER_NAMES = {"pypi": "test-pypi", "framework": "test-framework"}
FUNCTIONS = ("api-handler", "thumbnail")


@dataclass
class Run:
    exit_code: int
    summary: dict[str, Any] | None
    output: str  # what a person reads (stderr with --json)


# Most deploy tests are about what deploy decides and calls, not about the PyPI layer's size or
# files: they deploy a small stand-in for it (small_pypi_layer), and each uploads 200 kB instead
# of the real ~97 MB. The stand-in is still the largest artifact, and the limit above which a zip
# goes through S3 is lowered below it, so it takes the real layer's path (S3) and the others
# theirs (direct). Tests about the unzipped size limit, or the bytes of a real wheel, use the
# real one: mark them `@real_pypi_layer`.
real_pypi_layer = pytest.mark.real_pypi_layer


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "real_pypi_layer: deploy the PyPI layer Pants built, not the small one"
    )


SMALL_DISTRIBUTION = "small_dependency"
SMALL_LAYER_DATA_BYTES = 200_000


def small_pypi_layer(tree: Path, zip_path: Path) -> Path:
    """A layer shaped like the real PyPI layer (python/, a wheel's .dist-info, bytecode for this
    CPython, which is the runtime's), zipped by the zipper `package` uses."""
    package = tree / "python" / SMALL_DISTRIBUTION
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("VERSION = '1.0'\n")
    # Bytes that do not compress (a digest chain, so the same every time): it stays the largest zip.
    chain, blocks = b"small", []
    while len(blocks) * 32 < SMALL_LAYER_DATA_BYTES:
        chain = hashlib.sha256(chain).digest()
        blocks.append(chain)
    (package / "data.bin").write_bytes(b"".join(blocks))
    py_compile.compile(
        str(package / "__init__.py"),
        cfile=importlib.util.cache_from_source(str(package / "__init__.py")),
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    dist_info = tree / "python" / f"{SMALL_DISTRIBUTION}-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {SMALL_DISTRIBUTION}\nVersion: 1.0\n")
    (dist_info / "WHEEL").write_text("Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    (dist_info / "RECORD").write_text("")
    write_zip(str(tree), str(zip_path), workers=1)
    return zip_path


class Workspace:
    """A deploy.toml and a dist/ holding copies of the built artifacts, which a test may change.

    Artifacts are keyed by their AWS name without the layer prefix: `pypi`, `framework`,
    `api-handler`, `thumbnail`. Unless `real_pypi_layer`, `pypi` is small_pypi_layer's.
    """

    def __init__(self, root: Path, real_pypi_layer: bool = False) -> None:
        self.root = root
        self.dist = root / "dist"
        self.artifacts: dict[str, Path] = {}
        records = {metadata: json.loads(metadata.read_text()) for metadata in BUILT_METADATA}
        # The repository deployed here has the functions built for these tests, not every function
        # in the BUILD files: a team's others are not in the sandbox, and deploy would refuse them
        # as "in the BUILD files but not built".
        built = {recorded["address"] for recorded in records.values() if recorded["kind"] == "function"}
        for metadata, recorded in records.items():
            recorded["repository_functions"] = {
                function: layers
                for function, layers in recorded["repository_functions"].items()
                if function in built
            }
            copy = self.dist / metadata
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_text(json.dumps(recorded, indent=2, sort_keys=True))
            key = (function_name if recorded["kind"] == "function" else layer_name)(recorded["address"])
            self.artifacts[key] = copy.parent / recorded["artifact"]
            if key != "pypi" or real_pypi_layer:  # else replaced below
                shutil.copyfile(metadata.parent / recorded["artifact"], self.artifacts[key])
        if not real_pypi_layer:
            self.replace_artifact("pypi", small_pypi_layer(root / "small-pypi", root / "small-pypi.zip"))
        self.write_config()

    def replace_artifact(self, key: str, zip_path: Path) -> None:
        """Artifact `key` becomes `zip_path`'s bytes, recorded as `package` would record them."""
        shutil.copyfile(zip_path, self.artifacts[key])
        data = self.artifacts[key].read_bytes()
        with zipfile.ZipFile(self.artifacts[key]) as zf:
            unzipped = sum(info.file_size for info in zf.infolist())
        self.write_metadata(
            key,
            lambda recorded: recorded.update(
                sha256=hashlib.sha256(data).hexdigest(), unzipped_bytes=unzipped
            ),
        )

    def write_config(self, extra: str = "") -> Path:
        lines = [f'region = "{REGION}"', "[s3]", f'bucket = "{BUCKET}"', 'prefix = "artifacts/"']
        lines += ["[naming]", 'layer_prefix = "test-"']
        lines += ["[function_defaults]", "memory_mb = 512", "timeout_seconds = 15"]
        self.config = self.root / "deploy.toml"
        self.config.write_text("\n".join(lines) + "\n" + extra)
        return self.config

    def metadata_path(self, key: str) -> Path:
        return self.artifacts[key].with_name(self.artifacts[key].stem + ".metadata.json")

    def metadata(self, key: str) -> dict[str, Any]:
        return json.loads(self.metadata_path(key).read_text())

    def write_metadata(self, key: str, change: Callable[[dict[str, Any]], None]) -> None:
        recorded = self.metadata(key)
        change(recorded)
        self.metadata_path(key).write_text(json.dumps(recorded, indent=2, sort_keys=True))

    def add_layer(self, key: str, zip_path: Path) -> str:
        """A layer target `extra:KEY` built as `zip_path`; returns its address."""
        address = f"extra:{key}"
        self.artifacts[key] = self.dist / "extra" / f"{key}.zip"
        self.artifacts[key].parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(zip_path, self.artifacts[key])
        template = self.metadata("pypi")
        template.update(
            address=address,
            artifact=f"{key}.zip",
            sha256=hashlib.sha256(self.artifacts[key].read_bytes()).hexdigest(),
        )
        self.metadata_path(key).write_text(json.dumps(template))
        return address

    def set_function_layers(self, layer_addresses: list[str]) -> None:
        """What `package` would record if every function's `layers` were `layer_addresses`."""

        def change(recorded: dict[str, Any]) -> None:
            recorded["repository_functions"] = {f: layer_addresses for f in recorded["repository_functions"]}
            if recorded["kind"] == "function":
                recorded["layers"] = layer_addresses

        for key in self.artifacts:
            self.write_metadata(key, change)

    def add_function(self, address: str, zip_path: Path, layers: list[str] | None = None) -> str:
        """What `./pants package` leaves after a user adds a function at `address` that builds
        `zip_path`; returns its key (its AWS name by the convention)."""
        key = function_name(address)
        folder = self.dist / address.replace("/", ".").split(":")[0]
        folder.mkdir(parents=True, exist_ok=True)
        self.artifacts[key] = folder / "lambda.zip"
        if zip_path != self.artifacts[key]:
            shutil.copyfile(zip_path, self.artifacts[key])
        recorded = self.metadata("api-handler")
        if layers is not None:
            recorded["layers"] = layers
            recorded["layer_artifacts"] = [
                str(self.artifacts[layer_name(a)].relative_to(self.dist)) for a in layers
            ]
        recorded.update(address=address, sha256=hashlib.sha256(self.artifacts[key].read_bytes()).hexdigest())
        self.metadata_path(key).write_text(json.dumps(recorded))
        for other in self.artifacts:
            self.write_metadata(
                other, lambda m: m["repository_functions"].update({address: recorded["layers"]})
            )
        return key

    def unbuild(self, key: str) -> None:
        """As if `./pants package` had not built artifact `key` (CI builds only what changed)."""
        self.artifacts[key].unlink()
        self.metadata_path(key).unlink()

    def edit(self, key: str, member: str, change) -> None:
        """Rebuilds artifact `key` with one file changed, with the same zipper Pants uses, and
        records its new digest as `package` would."""
        tree = self.root / f"tree-{key}"
        shutil.rmtree(tree, ignore_errors=True)
        with zipfile.ZipFile(self.artifacts[key]) as zf:
            zf.extractall(tree)
        path = tree / member
        path.write_text(change(path.read_text()))
        write_zip(str(tree), str(self.artifacts[key]))
        digest = hashlib.sha256(self.artifacts[key].read_bytes()).hexdigest()
        self.write_metadata(key, lambda recorded: recorded.update(sha256=digest))

    def deploy(self, *args: str) -> Run:
        """Runs the CLI in this process, as `./pants run deploy -- ARGS --json` would."""
        stdout, stderr = io.StringIO(), io.StringIO()
        with redirect_stdout(stdout), redirect_stderr(stderr):
            code = main([*args, "--json", "--config", str(self.config), "--dist", str(self.dist)])
        return Run(code, json.loads(stdout.getvalue()) if stdout.getvalue() else None, stderr.getvalue())


def start_cli(workspace: Workspace, *args: str) -> subprocess.Popen[str]:
    """`./pants run deploy -- ARGS` as its own process (as another CI runner, or a terminal,
    would run it), on the workspace's configuration and artifacts."""
    main = "from lambda_deploy.cli import entry_point; entry_point()"
    paths = ("--config", str(workspace.config), "--dist", str(workspace.dist))
    return subprocess.Popen(
        [sys.executable, "-c", main, *args, *paths],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def workspace(tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    real = request.node.get_closest_marker("real_pypi_layer") is not None
    workspace = Workspace(tmp_path, real_pypi_layer=real)
    if not real:
        sizes = {key: path.stat().st_size for key, path in workspace.artifacts.items()}
        others = max(size for key, size in sizes.items() if key != "pypi")
        assert sizes["pypi"] > 2 * others, f"the small PyPI layer must stay the largest zip: {sizes}"
        monkeypatch.setattr(plan, "DIRECT_UPLOAD_LIMIT_BYTES", (sizes["pypi"] + others) // 2)
    return workspace


# How long the Lambda-like front keeps a function Pending or InProgress after each change, and
# how often the deploy tool asks in these tests: every wait takes a few polls, as on Lambda (where
# a change takes seconds and the tool polls every second), in a tenth of the time.
UPDATE_SECONDS = 0.3
WAIT_POLL_SECONDS = 0.1


@pytest.fixture(autouse=True)
def fast_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aws_module, "WAIT_POLL_SECONDS", WAIT_POLL_SECONDS)


class FrontedEmulator:
    """moto's server behind the Lambda-like front (lambda_front.py): what the tests deploy to."""

    def __init__(self, moto: LocalEmulator, front: LambdaFront) -> None:
        self.moto, self.front = moto, front
        self.endpoint_url = front.url


@pytest.fixture(scope="session")
def moto_server() -> Iterator[LocalEmulator]:
    """One moto server for the session: starting and stopping one per test costs a second."""
    with LocalEmulator() as moto:
        yield moto


@pytest.fixture
def emulator(moto_server: LocalEmulator) -> Iterator[FrontedEmulator]:
    # Every test starts from an empty AWS, as if on a server of its own.
    moto_server.reset()
    with LambdaFront(moto_server.endpoint_url, update_seconds=UPDATE_SECONDS) as front:
        yield FrontedEmulator(moto_server, front)


@pytest.fixture
def aws(emulator: FrontedEmulator) -> Aws:
    return make_clients(REGION, emulator.endpoint_url, LOCAL_CREDENTIALS)


def built_platform(metadata_files: list[Path] = BUILT_METADATA) -> tuple[str, str]:
    """The runtime and architecture the artifacts were built for (the root BUILD's knob)."""
    platforms = {
        (recorded["runtime"], recorded["architecture"])
        for recorded in (json.loads(path.read_text()) for path in metadata_files)
    }
    assert len(platforms) == 1, f"artifacts built for several platforms: {platforms}"
    return platforms.pop()


def create_infrastructure(
    aws: Aws, bucket: str, functions: tuple[str, ...], platform: tuple[str, str] | None = None
) -> None:
    """What infrastructure code creates before the first deploy: the bucket and the functions,
    with placeholder code and no layers, on the platform the artifacts were built for."""
    runtime, architecture = platform or built_platform()
    aws.create_bucket(bucket)
    role = aws.ensure_role("test-role")
    placeholder = io.BytesIO()
    with zipfile.ZipFile(placeholder, "w") as zf:
        zf.writestr("lambda_function.py", "def handler(event, context):\n    return None\n")
    for name in functions:
        aws.lambda_client.create_function(
            FunctionName=name,
            Runtime=runtime,
            Architectures=[architecture],
            Role=role,
            Handler=AWS_HANDLER,
            Code={"ZipFile": placeholder.getvalue()},
        )
    for name in functions:
        aws.wait_for("function_active_v2", name)


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
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass(frozen=True)
class AwsCall:
    service: str  # lambda, s3, iam
    operation: str
    permissions: tuple[Permission, ...] | None  # None: iam_rules.py does not know the call
    on_local_emulator: bool
    policy: dict[str, Any]  # what `iam-policy` gives for the run's deploy.toml and artifacts


class AwsCalls:
    """Every AWS call the deploy CLI makes in a test, with the IAM permissions each one needs.

    Set `denied_action` to make calls behave as under the run's policy without that action:
    AWS's 403 AccessDenied instead of the call.
    """

    def __init__(self) -> None:
        self.calls: list[AwsCall] = []
        self.denied_action: str | None = None

    def watch(self, aws: Aws, config: DeployConfig, on_local_emulator: bool) -> None:
        policy = deploy_policy(config)
        enforced = without(policy, self.denied_action) if self.denied_action else None

        def record(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
            service = model.service_model.service_name
            try:
                permissions: tuple[Permission, ...] | None = tuple(
                    required(service, model.name, params, config.region)
                )
            except UnknownCall:
                permissions = None
            self.calls.append(AwsCall(service, model.name, permissions, on_local_emulator, policy))
            context["iam_permissions"] = permissions or ()
            context["iam_exempt"] = on_local_emulator and (service, model.name) in EMULATOR_ONLY

        def deny(model: Any, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
            if enforced is None or context.get("iam_exempt"):
                return None
            for permission in context.get("iam_permissions", ()):
                if not allows(enforced, permission):
                    return _access_denied(model.service_model.service_name, permission)
            return None

        for client in (aws.lambda_client, aws.s3, aws.iam, aws.sts, aws.cloudwatch):
            client.meta.events.register("before-parameter-build", record)
            client.meta.events.register("before-call", deny)

    def problems(self) -> list[str]:
        found: list[str] = []
        for call in self.calls:
            name = f"{call.service}:{call.operation}"
            if call.permissions is None:
                found.append(f"{name} is a call iam_rules.py cannot map to IAM permissions: add it")
            elif (call.service, call.operation) in EMULATOR_ONLY:
                if not call.on_local_emulator:
                    found.append(f"{name} was made on a target other than the local emulator")
            else:
                found += [
                    f"{name} needs {p}, which `iam-policy` does not grant (lambda_deploy/iam.py)"
                    for p in call.permissions
                    if not allows(call.policy, p)
                ]
        return sorted(set(found))

    def needed(self) -> list[Permission]:
        return [p for call in self.calls for p in call.permissions or ()]


def _access_denied(service: str, permission: Permission) -> tuple[AWSResponse, dict[str, Any]]:
    """What AWS answers a call the caller's policies do not allow."""
    message = (
        f"User: arn:aws:sts::{EMULATOR_ACCOUNT}:assumed-role/deploy/ci is not authorized to perform: "
        f"{permission.action} on resource: {permission.resource} because no identity-based policy "
        f"allows the {permission.action} action"
    )
    code = "AccessDenied" if service == "s3" else "AccessDeniedException"
    parsed = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 403}}
    return AWSResponse("https://iam.invalid/", 403, {}, None), parsed


@pytest.fixture(autouse=True)
def aws_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsCalls]:
    """Watches every deploy run in every test: each AWS call it makes must be granted by the
    policy `iam-policy` gives for that run, or be one made only on the local emulator."""
    calls = AwsCalls()
    connect = cli.connect

    @contextlib.contextmanager
    def watched(target: DeployTarget, config: DeployConfig) -> Iterator[tuple[DeployTarget, Aws]]:
        with connect(target, config) as (connected, aws):
            calls.watch(aws, config, on_local_emulator=target.creates_missing)
            yield connected, aws

    monkeypatch.setattr(cli, "connect", watched)
    yield calls
    problems = calls.problems()
    assert not problems, "The deploy tool made calls its IAM policy does not cover:\n" + "\n".join(problems)


# Shared by deploy_test.py and recovery_test.py: what they read back from the emulator, and an edit.
def layer_versions(aws: Aws, key: str) -> list[int]:
    return [
        v["Version"]
        for v in aws.lambda_client.list_layer_versions(LayerName=LAYER_NAMES[key])["LayerVersions"]
    ]


def function_layers(aws: Aws, name: str) -> list[str]:
    configuration = aws.lambda_client.get_function(FunctionName=name)["Configuration"]
    return [layer["Arn"].rsplit(":layer:", 1)[1] for layer in configuration.get("Layers", [])]


def code_sha256(aws: Aws, name: str) -> str:
    return aws.lambda_client.get_function(FunctionName=name)["Configuration"]["CodeSha256"]


def add_comment(text: str) -> str:
    return text + "\n# changed\n"
