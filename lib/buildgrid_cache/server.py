"""A local BuildGrid remote cache (build-support/buildgrid/serve), as the integration tests and
the benchmark use it: on a free loopback port, optionally requiring a JWT like a hosted cache.

    grid = BuildGrid(repo, storage)  # repo: a checkout of this repository, for the serve script
    env = {"PANTS_CONFIG_FILES": "pants.remote.toml", "REMOTE_CACHE_ADDRESS": grid.address}
    ...
    grid.stop()
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hs256_jwt(secret: bytes, subject: str = "ci") -> str:
    """A signed JWT, as a hosted cache would hand out as a bearer token."""

    def encode(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = encode(json.dumps({"sub": subject, "exp": int(time.time()) + 3600}).encode())
    signature = encode(hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    return f"{header}.{payload}.{signature}"


class BuildGrid:
    def __init__(self, repo: Path, storage: Path, jwt_secret: bytes | None = None) -> None:
        self.port = free_port()
        self.address = f"grpc://127.0.0.1:{self.port}"
        storage.mkdir(parents=True, exist_ok=True)
        argv = [
            str(repo / "build-support/buildgrid/serve"),
            "--port",
            str(self.port),
            "--storage",
            str(storage),
        ]
        if jwt_secret is not None:
            secret_file = storage / "jwt.secret"
            secret_file.write_bytes(jwt_secret)
            argv += ["--jwt-secret-file", str(secret_file)]
        self.log = storage / "buildgrid.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ))
        self._wait_until_listening()

    def _wait_until_listening(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout  # the first start installs BuildGrid
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"BuildGrid exited:\n{self.log.read_text()[-3000:]}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.5)
        raise RuntimeError(f"BuildGrid did not listen on {self.port}:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
