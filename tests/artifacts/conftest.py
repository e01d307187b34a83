"""The built artifacts, as `runtime_package_dependencies` puts them in the test sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest
from lambda_artifacts.metadata import AWS_HANDLER, find_metadata
from lambda_artifacts.sandbox import LambdaSandbox
from lambda_targets.platforms import LambdaPlatform

# Output paths of the packages in BUILD's runtime_package_dependencies, relative to the sandbox.
PYPI_LAYER = Path("3rdparty.python/pypi.zip")
FRAMEWORK_LAYER = Path("3rdparty.python/framework.zip")
LAYERS = (PYPI_LAYER, FRAMEWORK_LAYER)  # the order every function lists them in
FUNCTIONS = {
    "api_handler": Path("src.python.api_handler/lambda.zip"),
    "thumbnail": Path("src.python.thumbnail/lambda.zip"),
}

# What every function is configured with in AWS.
HANDLER = AWS_HANDLER


def built_platform() -> LambdaPlatform:
    """The Lambda platform the artifacts were built for, as their metadata records it (the root
    BUILD's runtime and architecture): the one these tests check them against."""
    platforms = {(m.runtime, m.architecture) for m in find_metadata(Path("."))}
    assert len(platforms) == 1, f"artifacts built for several platforms: {platforms}"
    runtime, architecture = platforms.pop()
    return LambdaPlatform(runtime, architecture)


PLATFORM = built_platform()


def pytest_configure(config: pytest.Config) -> None:
    # A copy of the repository with other functions (tests/integration/runtimes_test.py) runs
    # every test but these, which check what this repository's example handlers answer.
    config.addinivalue_line("markers", "handler_behaviour: what the example functions' handlers answer")


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> LambdaSandbox:
    """Both layers unpacked into one read-only /opt, shared by every function's test."""
    return LambdaSandbox(tmp_path_factory.mktemp("lambda"), LAYERS, PLATFORM.runtime)


@pytest.fixture(scope="session")
def api_task(sandbox: LambdaSandbox) -> Path:
    return sandbox.task(FUNCTIONS["api_handler"])


@pytest.fixture(scope="session")
def thumbnail_task(sandbox: LambdaSandbox) -> Path:
    return sandbox.task(FUNCTIONS["thumbnail"])
