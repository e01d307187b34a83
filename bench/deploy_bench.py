"""The deploy benchmark: a layer bump across many functions, applied serially and in parallel.

moto answers at once, so by itself it would show nothing: the functions are deployed through
the deploy tests' Lambda-like front (tests/doubles/lambda_front.py), which adds a latency
to every API call and keeps each function `InProgress` for a while after each update, as Lambda
does. The same plan code and executor as `./pants run deploy -- apply` run against it; only the
artifacts are synthetic (small zips), since what is measured is waiting on Lambda, not uploads.
"""

from __future__ import annotations

import io
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from doubles.lambda_front import LambdaFront
from lambda_artifacts.metadata import AWS_HANDLER, HANDLER_MODULE
from lambda_deploy.apply import Executor
from lambda_deploy.artifacts import Artifact
from lambda_deploy.aws import make_clients
from lambda_deploy.config import DeployConfig, FunctionConfig, LayerConfig
from lambda_deploy.emulator import LOCAL_CREDENTIALS, LocalEmulator
from lambda_deploy.instructions import SetLayers
from lambda_deploy.plan import DeployTarget, make_plan

from bench.harness import log
from bench.workbench import Section, Workbench

NAME = "deploy"
ABOUT = "a layer bump across 50 functions, --parallel 1 against 8, through a Lambda-like front (3 minutes)"
BY_DEFAULT = False
FUNCTIONS = 50
PARALLEL = (1, 8)

REGION = "eu-west-1"
# The synthetic functions run on the runtime the benchmark itself runs on (the dev resolve's
# CPython, which follows the root BUILD's runtime); their architecture does not matter to moto.
RUNTIME = "python{}.{}".format(*sys.version_info[:2])
ARCHITECTURE = "x86_64"
LAYER = "3rdparty/python:bench"
# Lambda's control plane answers in tens of milliseconds, and an update of a function's code
# or configuration takes a second or more to finish (LastUpdateStatus InProgress).
API_LATENCY_SECONDS = 0.05
UPDATE_SECONDS = 1.5


@dataclass(frozen=True)
class DeployTiming:
    parallel: int
    plan_seconds: float
    apply_seconds: float


def _zip(path: Path, files: dict[str, str]) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in sorted(files.items()):
            zf.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), text)
    path.write_bytes(buffer.getvalue())
    return path


def _config(work: Path, functions: int, bump: int) -> tuple[DeployConfig, dict[str, Artifact]]:
    """`functions` functions that all use one layer, whose bytes change with `bump`."""
    work.mkdir(parents=True, exist_ok=True)
    layer_zip = _zip(work / f"layer-{bump}.zip", {"python/shared.py": f"BUMP = {bump}\n"})
    layer = LayerConfig(LAYER, "bench-shared", layer_zip, None, "", (RUNTIME,), (ARCHITECTURE,))
    artifacts = {f"layer:{LAYER}": Artifact(layer_zip, "layer bench-shared", LAYER)}
    configs = {}
    for index in range(functions):
        name, address = f"bench-fn-{index}", f"src/python/bench_fn_{index}:lambda"
        code = _zip(
            work / f"{name}.zip", {f"{HANDLER_MODULE}.py": f"def handler(e, c):\n    return {index}\n"}
        )
        configs[name] = FunctionConfig(
            name, address, code, None, (LAYER,), RUNTIME, ARCHITECTURE, AWS_HANDLER, 128, 3
        )
        artifacts[f"function:{name}"] = Artifact(code, f"function {name}", address)
    config = DeployConfig(work / "deploy.toml", REGION, "bench-artifacts", "", {LAYER: layer}, configs)
    return config, artifacts


def measure_deploy(work: Path, functions: int, parallel: tuple[int, ...]) -> list[DeployTiming]:
    """Creates `functions` functions (untimed), then for each `parallel`, bumps the layer and
    times the plan and the apply, which publishes the layer and sets every function's layers."""
    timings = []
    with LocalEmulator() as moto, LambdaFront(
        moto.endpoint_url, latency=API_LATENCY_SECONDS, update_seconds=UPDATE_SECONDS
    ) as front:
        aws = make_clients(REGION, front.url, LOCAL_CREDENTIALS)
        target = DeployTarget("the Lambda-like front", front.url, creates_missing=True)
        config, artifacts = _config(work, functions, bump=0)
        Executor(make_plan(config, artifacts, aws, target), aws, max(parallel)).run()
        for bump, workers in enumerate(parallel, start=1):
            config, artifacts = _config(work, functions, bump)
            start = time.perf_counter()
            plan = make_plan(config, artifacts, aws, target)
            planned = time.perf_counter()
            Executor(plan, aws, workers).run()
            done = time.perf_counter()
            # The layer, then each function's layers, a version of it and its alias; then the record.
            assert (
                sum(isinstance(step, SetLayers) for step in plan.instructions) == functions
            ), plan.instructions
            timings.append(DeployTiming(workers, planned - start, done - planned))
    return timings


def deploy_table(timings: list[DeployTiming], functions: int) -> list[str]:
    serial = next(t.apply_seconds for t in timings if t.parallel == 1)
    table = [
        f"Deploy: a layer bump across {functions} functions (publish the layer, then set each "
        f"function's layers and wait, publish a version of it and move its alias; then record the "
        f"deploy), through a Lambda-like front: {API_LATENCY_SECONDS * 1000:.0f} ms "
        f"per API call, {UPDATE_SECONDS:.1f} s InProgress after each update:",
        "",
        "| `--parallel` | Plan (s) | Apply (s) | Serial apply ÷ this |",
        "| ---: | ---: | ---: | ---: |",
    ]
    table += [
        f"| {t.parallel} | {t.plan_seconds:.1f} | {t.apply_seconds:.1f} | {serial / t.apply_seconds:.2f} |"
        for t in timings
    ]
    return table


def measure(bench: Workbench) -> Section:
    log(f"deploy: {FUNCTIONS} functions through a Lambda-like front, serial then parallel...")
    timings = measure_deploy(bench.work / "deploy", FUNCTIONS, PARALLEL)
    data = [
        {"parallel": t.parallel, "plan_seconds": t.plan_seconds, "apply_seconds": t.apply_seconds}
        for t in timings
    ]
    return Section(deploy_table(timings, FUNCTIONS), data=data)
