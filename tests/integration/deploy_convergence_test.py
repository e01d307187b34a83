"""main never drifts from AWS: main.yaml's deploy job, run as written on a scratch history against
moto, finishes on the next commit what a deploy that failed midway left undone, even when that
commit changes no artifact. That holds because the job packages every artifact, not only what
changed: a changed-only package would leave the unfinished function out (checked below).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from doubles.lambda_front import LambdaFront, operation
from integration.repo_copy import PantsRun, RepoCopy
from integration.scratch_history import API, THUMBNAIL, commit_change, scratch_history, selected
from lambda_artifacts.metadata import ArtifactMetadata, find_metadata
from lambda_deploy.aws import make_clients
from lambda_deploy.config import DeployConfig, load_config, load_settings
from lambda_deploy.emulator import LOCAL_CREDENTIALS, LocalEmulator

MARKER = "converge-marker-commit-B"
UNREADY_FUNCTION = b"def handler(event, context):\n    return None\n"


def run_deploy_job(
    repo: RepoCopy, tmp_path: Path, endpoint_url: str, before_deploy: Callable[[], None] = lambda: None
) -> PantsRun:
    """Runs the `run:` steps of main.yaml's deploy job in order, with bash as GitHub does, and
    returns the first that failed or the last. Only what cannot run here changes: --aws becomes
    the emulator, the summary goes to a temporary file, and no step gets secrets or
    FRAMEWORK_SOURCE=github (the framework comes from the local sample). `before_deploy` stands
    for the credentials step."""
    workflow = yaml.safe_load(repo.path(".github/workflows/main.yaml").read_text())
    steps = [step for step in workflow["jobs"]["deploy"]["steps"] if "run" in step]
    assert sum("--aws" in step["run"] for step in steps) == 1, steps
    # The GitHub expressions a step may use, as on a push of this commit (none before the first).
    parent = repo.run("git", "rev-parse", "--verify", "--quiet", "HEAD~1").stdout.strip()
    context = {"github.event.before": parent}
    # A fresh checkout: nothing built by an earlier run, as on a new CI runner.
    shutil.rmtree(repo.path("dist"), ignore_errors=True)
    region = deploy_region(repo)
    job_env = {
        **workflow.get("env", {}),
        "GITHUB_OUTPUT": str(tmp_path / "github-output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "step-summary.md"),
        # What the credentials step exports; fake, since the deploy goes to the emulator.
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }
    for step in steps:
        env = {
            key: expand(str(value), context)
            for key, value in step.get("env", {}).items()
            if key != "FRAMEWORK_SOURCE" and "secrets." not in str(value)
        }
        command = re.sub(r"--aws\b", f"--endpoint-url {endpoint_url}", expand(step["run"], context))
        if "--aws" in step["run"]:
            before_deploy()
        run = repo.run("bash", "-e", "-c", command, env={**job_env, **env})
        if run.returncode != 0:
            break
    return run


def expand(text: str, context: dict[str, str]) -> str:
    """GitHub's `${{ expression }}`, for the expressions in `context`; any other is a KeyError."""
    return re.sub(r"\$\{\{\s*(.*?)\s*\}\}", lambda match: context[match.group(1)], text)


def deploy_environment(repo: RepoCopy) -> str | None:
    """The deploy.toml environment main.yaml's deploy job deploys to (its --env), if any."""
    workflow = yaml.safe_load(repo.path(".github/workflows/main.yaml").read_text())
    (command,) = (s["run"] for s in workflow["jobs"]["deploy"]["steps"] if "--aws" in s.get("run", ""))
    found = re.search(r"--env\s+(\S+)", command)
    return found.group(1) if found else None


def deploy_config(repo: RepoCopy) -> DeployConfig:
    """The deploy configuration of the environment the job deploys to, with what was built."""
    return load_config(
        repo.path("deploy/deploy.toml"), repo.path("dist"), environment=deploy_environment(repo)
    )


def deploy_region(repo: RepoCopy) -> str:
    return load_settings(repo.path("deploy/deploy.toml"), deploy_environment(repo)).region


def built(repo: RepoCopy) -> dict[str, ArtifactMetadata]:
    """What the last package wrote, by address, from the metadata files beside the zips."""
    return {m.address: m for m in find_metadata(repo.path("dist"))}


def aws_names(repo: RepoCopy) -> dict[str, str]:
    """Each built artifact's AWS name, by address, as the deploy tool names it."""
    config = deploy_config(repo)
    return {f.address: f.name for f in config.functions.values()} | {
        k: v.name for k, v in config.layers.items()
    }


def code_sha256(zip_path: Path) -> str:
    """What Lambda reports as CodeSha256 for these bytes."""
    return base64.b64encode(hashlib.sha256(zip_path.read_bytes()).digest()).decode()


def add_notes(repo: RepoCopy) -> None:
    repo.path("docs").mkdir(exist_ok=True)
    repo.path("docs/deploy-notes.md").write_text("Notes that no artifact contains.\n")


def mark_handlers(repo: RepoCopy) -> None:
    for address in (API, THUMBNAIL):
        handler = repo.path(address.split(":")[0]) / "handler.py"
        handler.write_text(
            handler.read_text() + f'\n# Which commit this code is from.\nMARKER = "{MARKER}"\n'
        )


class RefusingFront(LambdaFront):
    """moto behind a proxy that refuses one function's new code, as AWS refuses a deploy role
    that lacks a permission. It refuses only once another function's new code has landed, so the
    deploy fails midway whatever order the tool's threads run in."""

    def __init__(self, upstream_url: str, refused: str, lands_first: str) -> None:
        super().__init__(upstream_url)
        self.refused, self.lands_first = refused, lands_first
        self.landed = threading.Event()

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        op, name = operation(method, path)
        if op == "UpdateFunctionCode" and name == self.refused:
            self.landed.wait(timeout=120)
            message = json.dumps({"Type": "User", "message": f"not allowed to update {name}"}).encode()
            return 403, [("x-amzn-ErrorType", "AccessDeniedException")], message
        answer = super().handle(method, path, headers, body)
        if op == "UpdateFunctionCode" and name == self.lands_first and answer[0] == 200:
            self.landed.set()
        return answer


def test_a_deploy_that_failed_midway_is_finished_by_the_next_commit(tmp_path: Path) -> None:
    repo = scratch_history(tmp_path / "repo")  # commit A
    # Build outputs stay out of the scratch commits (the copy has no .gitignore).
    repo.path(".git/info/exclude").write_text("dist/\n.pants.d/\ndeploy-summary.json\n")

    with LocalEmulator() as moto:
        aws = make_clients(deploy_region(repo), moto.endpoint_url, LOCAL_CREDENTIALS)

        def create_infrastructure() -> None:
            """What infrastructure code creates before the first deploy: the bucket, and each
            function on its platform with placeholder code (the tool only creates them on --local)."""
            config = deploy_config(repo)
            aws.create_bucket(config.bucket)
            role = aws.ensure_role("deploy-convergence-test")
            placeholder = tmp_path / "placeholder.zip"
            with zipfile.ZipFile(placeholder, "w") as zf:
                zf.writestr("lambda_function.py", UNREADY_FUNCTION)
            for function in config.functions.values():
                aws.lambda_client.create_function(
                    FunctionName=function.name,
                    Runtime=function.runtime,
                    Architectures=[function.architecture],
                    Role=role,
                    Handler="lambda_function.handler",
                    Code={"ZipFile": placeholder.read_bytes()},
                )

        def deployed(name: str) -> dict[str, Any]:
            return aws.lambda_client.get_function(FunctionName=name)["Configuration"]

        run_deploy_job(repo, tmp_path, moto.endpoint_url, create_infrastructure).check()
        # Digests now: the next package writes over the same paths.
        code_at_a = {address: code_sha256(m.artifact) for address, m in built(repo).items()}
        names = aws_names(repo)
        api, thumbnail = names[API], names[THUMBNAIL]

        # Commit B changes both functions; its deploy updates api-handler, then fails on thumbnail.
        commit_change(repo, "main", mark_handlers)
        with RefusingFront(moto.endpoint_url, refused=thumbnail, lands_first=api) as front:
            failed = run_deploy_job(repo, tmp_path, front.url)
        code_at_b = {address: code_sha256(m.artifact) for address, m in built(repo).items()}
        assert failed.returncode != 0 and "deploy -- apply" in failed.argv[-1], failed.output[-3000:]
        assert "AccessDeniedException" in failed.output, failed.output[-3000:]
        assert code_at_b[API] != code_at_a[API] and code_at_b[THUMBNAIL] != code_at_a[THUMBNAIL]
        assert deployed(api)["CodeSha256"] == code_at_b[API]
        assert deployed(thumbnail)["CodeSha256"] == code_at_a[THUMBNAIL]

        # Commit C changes no artifact. A changed-only package would build nothing of it...
        commit_change(repo, "main", add_notes)
        assert THUMBNAIL not in selected(repo)

        # ...but the job packages everything, so its deploy finishes what B's left undone.
        run_deploy_job(repo, tmp_path, moto.endpoint_url).check()
        summary = json.loads(repo.path("deploy-summary.json").read_text())
        assert summary["summary"]["updated"] == [thumbnail], summary["summary"]

        at_c = built(repo)
        functions = [m for m in at_c.values() if m.is_function]
        assert {m.address for m in functions} >= {API, THUMBNAIL}
        for function in functions:
            configuration = deployed(names[function.address])
            assert configuration["CodeSha256"] == code_sha256(function.artifact), function.address
            deployed_layers = []
            for layer in configuration.get("Layers", []):
                layer_name, version = layer["Arn"].rsplit(":", 2)[1:]
                found = aws.lambda_client.get_layer_version(LayerName=layer_name, VersionNumber=int(version))
                deployed_layers.append((layer_name, found["Content"]["CodeSha256"]))
            wanted = [(names[a], code_sha256(at_c[a].artifact)) for a in function.layers]
            assert deployed_layers == wanted, function.address
        # Thumbnail runs B's code: the zip AWS has holds B's marker.
        with zipfile.ZipFile(at_c[THUMBNAIL].artifact) as zf:
            assert MARKER in zf.read("thumbnail/handler.py").decode()
