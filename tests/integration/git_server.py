"""A token-protected git host on loopback: `git http-backend` behind a small HTTP server.

It stands in for GitHub (or a private mirror) the way pip and git meet it: smart HTTP, with
HTTP Basic authentication that answers 401 until the right token is sent.
"""

from __future__ import annotations

import base64
import http.server
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

USERNAME = "x-access-token"  # what GitHub expects with a token, and what ./pants sends


class GitHttpServer:
    def __init__(self, project_root: Path, token: str) -> None:
        self.project_root = project_root
        self.requests_refused = 0
        expected = "Basic " + base64.b64encode(f"{USERNAME}:{token}".encode()).decode()
        git = shutil.which("git") or "git"
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self.serve()

            def do_POST(self) -> None:
                self.serve()

            def serve(self) -> None:
                if self.headers.get("Authorization") != expected:
                    server.requests_refused += 1
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="git"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                path, _, query = self.path.partition("?")
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                env = {
                    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "GIT_PROJECT_ROOT": str(project_root),
                    "GIT_HTTP_EXPORT_ALL": "1",
                    "REQUEST_METHOD": self.command,
                    "PATH_INFO": path,
                    "QUERY_STRING": query,
                    "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                    "CONTENT_LENGTH": str(len(body)),
                    "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
                    "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
                    "REMOTE_USER": USERNAME,
                    "REMOTE_ADDR": "127.0.0.1",
                }
                output = subprocess.run(
                    [git, "http-backend"], input=body, env=env, capture_output=True
                ).stdout
                head, _, payload = output.partition(b"\r\n\r\n")
                status, headers = 200, []
                for line in head.decode().split("\r\n"):
                    name, _, value = line.partition(": ")
                    if name.lower() == "status":
                        status = int(value.split()[0])
                    elif name:
                        headers.append((name, value))
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def url(self, repository: str) -> str:
        return f"{self.base_url}/{repository}"

    def commit_of(self, repository: str, tag: str) -> str:
        return subprocess.run(
            ["git", "--git-dir", str(self.project_root / repository), "rev-parse", f"{tag}^{{commit}}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def make_framework_repository(sample: Path, bare: Path, tags: list[str]) -> None:
    """A throwaway repository of the framework sample, one commit per tag, as a real release
    would be: versions without the `+sample` label."""
    work = bare.parent / "work"
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "test",
        "GIT_AUTHOR_EMAIL": "test@invalid",
        "GIT_COMMITTER_NAME": "test",
        "GIT_COMMITTER_EMAIL": "test@invalid",
        "GIT_CONFIG_GLOBAL": "/dev/null",
    }

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=work, env=env, check=True, capture_output=True)

    work.mkdir(parents=True)
    git("init", "--initial-branch=main", ".")
    for tag in tags:
        for path in sample.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.name != "TAGS":
                target = work / path.relative_to(sample)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(path.read_text().replace("@SAMPLE_VERSION@", tag.lstrip("v")))
        git("add", "--all")
        git("commit", "-m", f"release {tag}")
        git("tag", "-a", tag, "-m", f"release {tag}")
    subprocess.run(["git", "clone", "--bare", str(work), str(bare)], check=True, capture_output=True, env=env)
    shutil.rmtree(work)
