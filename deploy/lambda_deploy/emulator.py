"""The local stand-in for AWS: moto's server, in this process, on a free loopback port.

It serves Lambda, S3 and IAM over real HTTP, so the deploy tool talks to it exactly as it
talks to AWS. It cannot run functions (that needs Docker); the artifact tests do that instead.
"""

from __future__ import annotations

import io
import logging
import urllib.request
import zipfile

import moto
from lambda_artifacts.metadata import AWS_HANDLER, HANDLER_MODULE
from lambda_deploy.aws import Aws
from lambda_deploy.config import DeployConfig
from moto.server import ThreadedMotoServer

# moto accepts any credentials; these keep boto3 from looking for real ones.
LOCAL_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}


class LocalEmulator:
    def __init__(self, port: int = 0) -> None:
        """`port` 0: any free one."""
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self.endpoint_url = ""

    def __enter__(self) -> LocalEmulator:
        # werkzeug logs every request at INFO; that is noise in a deploy's output.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        # moto keeps its state per process, not per server: start from nothing every time.
        self.reset()
        return self

    def reset(self) -> None:
        """Forgets every function, layer, bucket and role: an empty AWS."""
        urllib.request.urlopen(
            urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        ).close()

    def __exit__(self, *exc_info: object) -> None:
        self._server.stop()

    @property
    def description(self) -> str:
        return f"the local emulator (moto {moto.__version__} at {self.endpoint_url})"


# The placeholder code of a function the emulator creates, as infrastructure code would.
PLACEHOLDER_HANDLER = "def handler(event, context):\n    return None\n"


def create_infrastructure(aws: Aws, config: DeployConfig, role_name: str) -> list[str]:
    """What infrastructure code creates before a first deploy: the bucket, and each function of
    `config` on its platform with placeholder code. Returns what it created."""
    created = []
    if not aws.bucket_exists(config.bucket):
        aws.create_bucket(config.bucket)
        created.append(f"s3://{config.bucket}")
    placeholder = io.BytesIO()
    with zipfile.ZipFile(placeholder, "w") as zf:
        zf.writestr(f"{HANDLER_MODULE}.py", PLACEHOLDER_HANDLER)
    role = aws.ensure_role(role_name)
    for function in config.functions.values():
        if aws.function(function.name) is not None or function.runtime is None:
            continue
        aws.lambda_client.create_function(
            FunctionName=function.name,
            Runtime=function.runtime,
            Architectures=[function.architecture],
            Role=role,
            Handler=AWS_HANDLER,
            Code={"ZipFile": placeholder.getvalue()},
        )
        aws.wait_for("function_active_v2", function.name)
        created.append(f"function {function.name}")
    return created
