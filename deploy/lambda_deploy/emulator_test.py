"""`./pants run deploy -- emulator`: a local emulator that outlives one run, for --endpoint-url."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest
from botocore.config import Config
from lambda_deploy import aws as aws_module
from lambda_deploy.conftest import Workspace, add_comment


def test_the_emulator_serves_deploys_history_and_rollback_across_runs_until_ctrl_c(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    main = "from lambda_deploy.cli import entry_point; entry_point()"
    emulator = subprocess.Popen(
        [
            sys.executable,
            "-c",
            main,
            "emulator",
            "--port",
            "0",
            "--config",
            str(workspace.config),
            "--dist",
            str(workspace.dist),
        ],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first_line = emulator.stdout.readline()
        found = re.search(r"running at (http://127\.0\.0\.1:\d+)", first_line)
        assert found, first_line + emulator.stderr.read()
        url = found.group(1)
        assert "function api-handler" in emulator.stdout.readline()  # created, as infrastructure code would

        first = workspace.deploy("apply", "--endpoint-url", url)
        workspace.edit("thumbnail", "thumbnail/handler.py", add_comment)
        second = workspace.deploy("apply", "--endpoint-url", url)
        back = workspace.deploy("rollback", "--endpoint-url", url)

        assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
        assert (
            back.exit_code == 0 and back.summary["rolled_back_to"] == first.summary["deploy_id"]
        ), back.output
        history = workspace.deploy("history", "--endpoint-url", url).summary
        assert [r["kind"] for r in history] == ["rollback", "apply", "apply"]
    finally:
        emulator.send_signal(signal.SIGINT)
        _, stderr = emulator.communicate(timeout=30)
    assert emulator.returncode == 0, stderr
    assert "Stopped the local emulator." in stderr and "Traceback" not in stderr
    # Gone with the process: a deploy there cannot connect (retried twice, not ten times, here).
    monkeypatch.setattr(
        aws_module,
        "RETRYING",
        aws_module.RETRYING.merge(Config(retries={"mode": "standard", "max_attempts": 2})),
    )
    gone = workspace.deploy("history", "--endpoint-url", url)
    assert gone.exit_code == 1 and "is the emulator running?" in gone.output
