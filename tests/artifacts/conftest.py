"""The built artifacts, as `runtime_package_dependencies` puts them in the test sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest
from lambda_artifacts.sandbox import LambdaSandbox

# Output paths of the packages in BUILD's runtime_package_dependencies, relative to the sandbox.
PYPI_LAYER = Path("3rdparty.python/pypi.zip")
FRAMEWORK_LAYER = Path("3rdparty.python/framework.zip")
LAYERS = (PYPI_LAYER, FRAMEWORK_LAYER)  # the order every function lists them in
FUNCTIONS = {
    "api_handler": Path("src.python.api_handler/lambda.zip"),
    "thumbnail": Path("src.python.thumbnail/lambda.zip"),
}


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> LambdaSandbox:
    """Both layers unpacked into one read-only /opt, shared by every function's test."""
    return LambdaSandbox(tmp_path_factory.mktemp("lambda"), LAYERS)


@pytest.fixture(scope="session")
def api_task(sandbox: LambdaSandbox) -> Path:
    return sandbox.task(FUNCTIONS["api_handler"])


@pytest.fixture(scope="session")
def thumbnail_task(sandbox: LambdaSandbox) -> Path:
    return sandbox.task(FUNCTIONS["thumbnail"])
