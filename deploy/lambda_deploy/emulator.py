"""The local stand-in for AWS: moto's server, in this process, on a free loopback port.

It serves Lambda, S3 and IAM over real HTTP, so the deploy tool talks to it exactly as it
talks to AWS. It cannot run functions (that needs Docker); the artifact tests do that instead.
"""

from __future__ import annotations

import logging
import urllib.request

import moto
from moto.server import ThreadedMotoServer

# moto accepts any credentials; these keep boto3 from looking for real ones.
LOCAL_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}


class LocalEmulator:
    def __init__(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
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
