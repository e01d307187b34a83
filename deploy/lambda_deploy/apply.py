"""The executor: carries out a plan's instructions, in order, and says what each one did.

It decides nothing the planner decided. Layers are published before any function is touched, so
no function ever points at a version that does not exist yet. Every step is idempotent on a
rerun: a rerun plans again from AWS's state, finds a layer published before a failure identical
(and reuses it) and a function already updated equal to its artifact, so a rerun after any
failure finishes the job without doing anything twice.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from lambda_deploy import rollout as rollout_module
from lambda_deploy.artifacts import Artifact
from lambda_deploy.aws import AliasState, Aws, Code, FunctionState, FunctionVersion, LayerVersion
from lambda_deploy.errors import ConcurrentChangeError, DeployError, RolloutAborted, UploadMismatchError
from lambda_deploy.history import DeployedFunction, DeployedLayer, DeployRecord, History
from lambda_deploy.instructions import (
    FUNCTION_INSTRUCTIONS,
    LAST_INSTRUCTIONS,
    CreateFunction,
    EnsureBucket,
    Instruction,
    LayerRef,
    PointAlias,
    PublishLayer,
    PublishVersion,
    RecordDeploy,
    SetLayers,
    SetSnapStart,
    ShiftTraffic,
    UpdateCode,
    UploadToS3,
    short_layer_arn,
)
from lambda_deploy.plan import (
    Plan,
    Staging,
    function_instructions,
    read_function,
    rollback_instructions,
    same_bytes,
)
from lambda_deploy.progress import Outcome, Progress, label

logger = logging.getLogger(__name__)

# The role functions created on the local emulator run as. It exists only there.
LOCAL_ROLE_NAME = "lambda-monorepo-local"


@dataclass
class ApplyResult:
    outcomes: list[Outcome] = field(default_factory=list)  # in the plan's order
    layer_versions: dict[str, LayerVersion] = field(default_factory=dict)  # by layer key
    function_layers: dict[str, tuple[str, ...]] = field(default_factory=dict)  # by function name
    # The version each function's alias points at after the apply, by function name.
    alias_versions: dict[str, FunctionVersion] = field(default_factory=dict)
    published_versions: dict[str, FunctionVersion] = field(default_factory=dict)  # by function name
    deploy_id: str | None = None  # the history record written, if any
    uploaded_bytes: int = 0  # zips sent to S3 or to Lambda directly


# How many times one function is planned again after losing a race, before apply gives up.
MAX_ATTEMPTS = 3
# After Ctrl-C, how long the calls under way may take to finish before the process leaves anyway.
WORKER_GRACE_SECONDS = 10.0


class LostRace(Exception):
    """Something else changed a function between our read and our write."""


class Interrupted(Exception):
    """Ctrl-C during apply. The message is the one line to print."""


class Executor:
    def __init__(
        self, plan: Plan, aws: Aws, parallel: int = 1, report: Callable[[str], None] = lambda line: None
    ) -> None:
        self.plan, self.aws, self.parallel = plan, aws, parallel
        self.result = ApplyResult()
        self.progress = Progress(plan.instructions, report)
        self._stop = threading.Event()  # set on the first error or Ctrl-C: start nothing more
        self._interrupted = threading.Event()  # Ctrl-C: the process is leaving, touch nothing more
        self._lock = threading.Lock()
        self._workers: list[threading.Thread] = []  # every thread started, to wait for after Ctrl-C
        self._role_arn: str | None = None
        # The state each function is in, as last read or written: the next write expects it.
        self._functions: dict[str, FunctionState | None] = {
            s.function.name: s.current for s in plan.functions
        }
        self._checked: set[str] = set()
        # Each function's alias as last read or written: the next move expects it.
        self._aliases: dict[str, AliasState | None] = {s.function.name: s.alias for s in plan.functions}
        for status in plan.functions:
            version = status.alias_version()
            if version is not None:
                self.result.alias_versions[status.function.name] = version
        self._handlers: dict[type, Callable] = {
            EnsureBucket: self._ensure_bucket,
            UploadToS3: self._upload,
            PublishLayer: self._publish_layer,
            CreateFunction: self._create_function,
            UpdateCode: self._update_code,
            SetLayers: self._set_layers,
            SetSnapStart: self._set_snapstart,
            PublishVersion: self._publish_version,
            PointAlias: self._point_alias,
            ShiftTraffic: self._shift_traffic,
            RecordDeploy: self._record_deploy,
        }

    def run(self) -> ApplyResult:
        """Layers (and their uploads) first, in order; then each function's instructions, up to
        `parallel` functions at a time. Every call runs in a worker thread, so that Ctrl-C reaches
        this thread at once and it can say exactly what was done."""
        for status in self.plan.layers:
            if status.ref.version is not None:
                self.result.layer_versions[status.layer.key] = status.ref.version
        indexed = list(enumerate(self.plan.instructions))
        later = (*FUNCTION_INSTRUCTIONS, *LAST_INSTRUCTIONS)
        first = [i for i, step in indexed if not isinstance(step, later)]
        last = [i for i, step in indexed if isinstance(step, LAST_INSTRUCTIONS)]
        chains: dict[str, list[int]] = {}
        for i, step in indexed:
            if isinstance(step, FUNCTION_INSTRUCTIONS):
                chains.setdefault(step.subject, []).append(i)
        try:
            self._run_chains([first] if first else [], 1)
            if any(isinstance(step, CreateFunction) for step in self.plan.instructions):
                self._role_arn = self._in_worker(lambda: self.aws.ensure_role(LOCAL_ROLE_NAME))
            self._run_chains(list(chains.values()), self.parallel, self._run_function)
            self._run_chains([last] if last else [], 1)
        except KeyboardInterrupt:
            self._interrupted.set()
            self._stop.set()
            sentence = self.progress.sentence()  # what Ctrl-C cut off, before the workers wind down
            self._let_workers_finish()
            raise Interrupted(f"Interrupted: {sentence}; rerun apply to finish.")
        self.result.outcomes = [self.progress.outcomes[i] for i in sorted(self.progress.outcomes)]
        for name, state in self._functions.items():
            self.result.function_layers[name] = state.layer_arns if state else ()
        return self.result

    def _run_chains(
        self, chains: list[list[int]], parallel: int, run: Callable[[list[int]], None] | None = None
    ) -> None:
        """Runs each chain's instructions in order, up to `parallel` chains at a time. After an
        error, starts nothing more, lets what is under way finish, and raises the error of the
        earliest chain in the plan, so that the same failure reads the same every time."""
        pending = list(enumerate(chains))
        errors: dict[int, BaseException] = {}

        def worker() -> None:
            while not self._stop.is_set():
                with self._lock:
                    if not pending:
                        return
                    number, chain = pending.pop(0)
                try:
                    (run or self._run_chain)(chain)
                except BaseException as e:  # reported by the main thread
                    errors[number] = e
                    self._stop.set()

        threads = [self._start_worker(worker) for _ in range(min(parallel, len(chains)))]
        for thread in threads:
            while thread.is_alive():
                thread.join(timeout=0.1)  # a bounded join: Ctrl-C interrupts it
        if errors:
            raise errors[min(errors)]

    def _run_chain(self, chain: list[int]) -> None:
        for index in chain:
            if self._stop.is_set():
                return
            instruction = self.plan.instructions[index]
            self.progress.start(index)
            try:
                did = self._handlers[type(instruction)](instruction)
            except BaseException:
                self.progress.stop(index)
                raise
            logger.debug("%s: %s", instruction.describe(), did)
            self.progress.finish(index, did)

    def _run_function(self, chain: list[int]) -> None:
        """One function's instructions. If another deploy (or a person) changes the function
        between our read and our write, Lambda refuses the write (a stale RevisionId: 412; an
        update under way: 409), or our own check before the first write sees it where the API has
        no RevisionId. Then this function alone is planned again from its new state, a bounded
        number of times; the layer versions stay as this deploy settled them."""
        first = self.plan.instructions[chain[0]]
        assert isinstance(first, FUNCTION_INSTRUCTIONS)
        name = first.subject
        planned = self._functions[name]
        revisions = [_revision(planned)] if planned else []
        groups = [(index, [self.plan.instructions[index]]) for index in chain]
        for _attempt in range(MAX_ATTEMPTS):
            try:
                self._run_groups(groups)
                break
            except LostRace:
                if self._stop.is_set():
                    return
                self.aws.wait_until_updated(name)  # whatever update is under way
                current = self._functions[name] = self._read(name)
                self._checked.add(name)
                revisions.append(_revision(current))
                groups = self._replan(name, chain, current)
        else:
            raise ConcurrentChangeError(
                f"Function {name!r} kept changing while this deploy ran: revision "
                f"{' -> '.join(revisions)} ({MAX_ATTEMPTS} attempts, each planned again from the "
                f"function's new state). Something else is deploying it; nothing it did was "
                f"overwritten without being read first. Rerun apply when it has finished."
            )
        for index in chain:
            if index not in self.progress.outcomes:
                self.progress.finish(
                    index,
                    f"{label(self.plan.instructions[index])}: nothing left to do, another deploy did it",
                )

    def _replan(
        self, name: str, chain: list[int], current: FunctionState
    ) -> list[tuple[int, list[Instruction]]]:
        """This function's remaining instructions, planned again from its state now, against the
        plan's not yet done instructions (for the report): the last one takes any surplus."""
        status = next(s for s in self.plan.functions if s.function.name == name)
        refs = tuple(
            LayerRef(self.plan.config.layers[key], self.result.layer_versions[key])
            for key in status.function.layers
        )
        fresh = read_function(self.aws, replace(status, current=current), self.plan.config.alias)
        self._aliases[name] = fresh.alias
        if self.plan.kind == "rollback":
            steps = rollback_instructions(fresh, self.plan.config.alias, self._rollback_version(chain))
        else:
            steps = function_instructions(fresh, refs, Staging(self.plan.config, self.aws))
        open_indices = [index for index in chain if index not in self.progress.outcomes]
        groups: list[tuple[int, list[Instruction]]] = [(index, []) for index in open_indices]
        for number, step in enumerate(steps):
            groups[min(number, len(groups) - 1)][1].append(step)
        return [(index, group) for index, group in groups if group]

    def _rollback_version(self, chain: list[int]) -> FunctionVersion:
        (step,) = (self.plan.instructions[index] for index in chain)
        assert isinstance(step, PointAlias) and step.version is not None
        return step.version

    def _run_groups(self, groups: list[tuple[int, list[Instruction]]]) -> None:
        for index, steps in groups:
            if self._stop.is_set():
                return
            self.progress.start(index)
            try:
                did = "; ".join(self._handlers[type(step)](step) for step in steps)
            except BaseException:
                self.progress.stop(index)
                raise
            self.progress.finish(index, did)

    def _start_worker(self, target: Callable[[], None]) -> threading.Thread:
        # A daemon: after Ctrl-C, a call that hangs past WORKER_GRACE_SECONDS cannot keep the
        # process alive (cli.entry_point then leaves without finalizing the interpreter).
        thread = threading.Thread(target=target, daemon=True)
        self._workers.append(thread)
        thread.start()
        return thread

    def _let_workers_finish(self) -> None:
        """After Ctrl-C: every worker stops at its next check (a bake wakes at once), so wait a
        moment for the calls under way. A thread left printing while the interpreter shuts down
        aborts it ("could not acquire lock for <stdout>"), and a call cut off is a call whose
        effect the report cannot name. A second Ctrl-C stops waiting."""
        deadline = time.monotonic() + WORKER_GRACE_SECONDS
        try:
            for thread in self._workers:
                thread.join(timeout=max(0.0, deadline - time.monotonic()))
        except KeyboardInterrupt:
            pass

    def _in_worker(self, call: Callable[[], str]) -> str:
        results: list[str] = []
        errors: list[BaseException] = []

        def run() -> None:
            try:
                results.append(call())
            except BaseException as e:
                errors.append(e)

        thread = self._start_worker(run)
        while thread.is_alive():
            thread.join(timeout=0.1)
        if errors:
            raise errors[0]
        return results[0]

    # --- Layers and S3 ----------------------------------------------------------------------

    def _ensure_bucket(self, instruction: EnsureBucket) -> str:
        self.aws.create_bucket(instruction.bucket)
        return f"created s3://{instruction.bucket}"

    def _upload(self, instruction: UploadToS3) -> str:
        artifact = instruction.artifact
        self.aws.upload(instruction.bucket, instruction.key, artifact.content, artifact.code_sha256)
        self._count_upload(artifact)
        return f"uploaded {instruction.artifact.path} to s3://{instruction.bucket}/{instruction.key}"

    def _publish_layer(self, instruction: PublishLayer) -> str:
        """Publishes, unless another deploy has published these bytes since the plan read the
        versions; then makes every deploy that published them at the same time use one version,
        the lowest with these bytes.

        A duplicate this deploy made is left in place, not deleted: by the time we see it, another
        deploy or a tool that picks a layer's latest version may already point a function at it,
        and deleting it would break that function's next update. It costs storage only; this tool
        never points a function at it, and the next plan reuses the lowest.
        """
        name, key, artifact = instruction.layer.name, instruction.layer.key, instruction.artifact
        meanwhile = same_bytes(self.aws.layer_versions(name), artifact)
        if meanwhile is not None:
            self.result.layer_versions[key] = meanwhile
            return (
                f"used {name} version {meanwhile.version}: another deploy published the same bytes "
                f"after the plan read the versions"
            )
        version = self.aws.publish_layer_version(instruction.layer, instruction.code)
        _verify(
            instruction.artifact,
            instruction.code,
            version.code_sha256,
            f"layer {instruction.layer.name} version {version.version}",
            "No function was pointed at that version.",
        )
        if instruction.code.zip_bytes is not None:
            self._count_upload(instruction.artifact)
        lowest = same_bytes(self.aws.layer_versions(name), artifact) or version
        self.result.layer_versions[key] = lowest
        if lowest.version != version.version:
            return (
                f"published {name} version {version.version}, but another deploy published the same "
                f"bytes at the same time as version {lowest.version}: using that one"
            )
        return f"published {name} version {version.version}"

    def _count_upload(self, artifact: Artifact) -> None:
        with self._lock:
            self.result.uploaded_bytes += artifact.zipped_bytes

    def _arns(self, refs: tuple[LayerRef, ...]) -> list[str]:
        return [self.result.layer_versions[ref.layer.key].arn for ref in refs]

    # --- Functions --------------------------------------------------------------------------

    def _create_function(self, instruction: CreateFunction) -> str:
        name = instruction.function.name
        assert self._role_arn is not None  # made before any function is created
        if instruction.code.zip_bytes is not None:
            self._count_upload(instruction.artifact)
        layers = self._arns(instruction.layers)
        created = self.aws.create_function(
            instruction.function,
            instruction.code,
            layers,
            self._role_arn,
            instruction.memory_mb,
            instruction.timeout_seconds,
        )
        _verify(
            instruction.artifact,
            instruction.code,
            created.code_sha256,
            f"the new function {name}",
            "A rerun of apply replaces its code.",
        )
        self._functions[name] = self._read(name)
        return f"created {name} with layers [{', '.join(short_layer_arn(arn) for arn in layers)}]"

    def _update_code(self, instruction: UpdateCode) -> str:
        name = instruction.function.name
        state = self._unchanged_since_plan(name)
        if instruction.code.zip_bytes is not None:
            self._count_upload(instruction.artifact)
        with self._races():
            updated = self.aws.update_function_code(state, instruction.code)
        _verify(
            instruction.artifact,
            instruction.code,
            updated.code_sha256,
            f"function {name}",
            "Its layers were left as they were; a rerun of apply replaces its code.",
        )
        self._functions[name] = self._read(name)
        return f"updated the code of {name}"

    def _set_layers(self, instruction: SetLayers) -> str:
        name = instruction.function.name
        state = self._unchanged_since_plan(name)
        layers = self._arns(instruction.layers)
        with self._races():
            self.aws.update_function_layers(state, layers)
        self._functions[name] = self._read(name)
        return f"set the layers of {name} to [{', '.join(short_layer_arn(arn) for arn in layers)}]"

    def _publish_version(self, instruction: PublishVersion) -> str:
        name = instruction.function.name
        state = self._unchanged_since_plan(name)
        known = {v.version for s in self.plan.functions if s.function.name == name for v in s.published}
        # Lambda refuses a CodeSha256 that is no longer $LATEST's as an invalid parameter: here,
        # that means another deploy changed the code since this one read or wrote it.
        with self._races(self.aws.lambda_client.exceptions.InvalidParameterValueException):
            version = self.aws.publish_version(state)
        if version.code_sha256 != state.code_sha256:
            raise DeployError(
                f"Lambda published version {version.version} of {name} with code {version.code_sha256}, "
                f"not the {state.code_sha256} this deploy put there. Rerun apply."
            )
        self.result.published_versions[name] = version
        if version.version in known:
            return f"kept version {version.version} of {name}: it already holds $LATEST as it is"
        return f"published version {version.version} of {name}"

    def _point_alias(self, instruction: PointAlias) -> str:
        name = instruction.function.name
        version = instruction.version or self.result.published_versions[name]
        with self._races():
            moved = self.aws.point_alias(name, instruction.alias, version.version, self._aliases[name])
        self._aliases[name] = moved
        self.result.alias_versions[name] = version
        return f"pointed {name}:{instruction.alias} at version {version.version}"

    def _shift_traffic(self, instruction: ShiftTraffic) -> str:
        """Each step of the rollout: weight, then bake while polling the alarms. An alarm in
        ALARM, or the deploy stopping (another function failed), moves the alias back to the old
        version with all its traffic. A crash or Ctrl-C leaves it weighted: the next apply starts
        the rollout again, and a rollback clears the weights."""
        name, alias, rollout = instruction.function.name, instruction.alias, instruction.function.rollout
        new = instruction.version or self.result.published_versions[name]
        current = self._aliases[name] or instruction.current
        old = current.function_version
        for weight, seconds in rollout.steps:
            with self._races():
                current = self._aliases[name] = self.aws.weigh_alias(current, name, new.version, weight)
            logger.info(
                "%s:%s sends %.0f%% to version %s for %.0f s", name, alias, weight * 100, new.version, seconds
            )
            firing = self._bake(instruction.function.alarms, seconds)
            if self._interrupted.is_set():
                # Left weighted, whether or not this thread outlives the process: what the next
                # apply finishes and a rollback clears, the same every time.
                return f"left {name}:{alias} sending {weight:.0%} to version {new.version}: interrupted"
            if firing or self._stop.is_set():
                with self._races():
                    self._aliases[name] = self.aws.point_alias(name, alias, old, current)
                if not firing:
                    return f"moved {name}:{alias} back to version {old}: the deploy stopped mid-rollout"
                raise RolloutAborted(
                    f"The alarm {firing} went into ALARM while {name}:{alias} sent {weight:.0%} of its "
                    f"traffic to version {new.version} ({rollout.describe()}): moved the alias back to "
                    f"version {old}, with all its traffic. Version {new.version} stays published; fix the "
                    f"cause and deploy again, or look at it with `invoke`."
                )
        with self._races():
            self._aliases[name] = self.aws.point_alias(name, alias, new.version, current)
        self.result.alias_versions[name] = new
        watched = ", ".join(instruction.function.alarms) or "no alarms"
        return (
            f"shifted {name}:{alias} to version {new.version} ({rollout.describe()}; {watched} stayed quiet)"
        )

    def _bake(self, alarms: tuple[str, ...], seconds: float) -> str | None:
        """Waits `seconds`, asking CloudWatch every ALARM_POLL_SECONDS; the alarms in ALARM, if any."""
        deadline = time.monotonic() + seconds
        while True:
            if alarms:
                states = self.aws.alarm_states(alarms)
                firing = [alarm for alarm in alarms if states.get(alarm) == "ALARM"]
                if firing:
                    return ", ".join(firing)
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._stop.wait(min(rollout_module.ALARM_POLL_SECONDS, remaining)):
                return None

    def _record_deploy(self, instruction: RecordDeploy) -> str:
        config = self.plan.config
        functions = {
            name: DeployedFunction(
                self.plan.config.functions[name].address,
                version.version,
                version.code_sha256,
                version.layer_arns,
            )
            for name, version in sorted(self.result.alias_versions.items())
        }
        layers = {
            config.layers[key].name: DeployedLayer(key, version.version, version.arn, version.code_sha256)
            for key, version in sorted(self.result.layer_versions.items())
        }
        artifacts = {
            status.layer.key: status.artifact.sha256_hex for status in self.plan.layers if status.artifact
        }
        artifacts.update(
            (status.function.address, status.artifact.sha256_hex)
            for status in self.plan.functions
            if status.artifact
        )
        changed = sorted(
            {step.subject for step in self.plan.instructions if isinstance(step, FUNCTION_INSTRUCTIONS)}
        )
        changed += sorted(
            step.layer.name for step in self.plan.instructions if isinstance(step, PublishLayer)
        )
        if instruction.kind == "rollback":
            # The bytes now live are the restored deploy's.
            assert instruction.rolled_back_to is not None
            restored = History(self.aws, instruction.bucket, config.history_folder).read(
                instruction.rolled_back_to
            )
            artifacts, layers = restored.artifacts, restored.layers
        record = DeployRecord(
            deploy_id=instruction.deploy_id,
            kind=instruction.kind,
            rolled_back_to=instruction.rolled_back_to,
            promoted_from=instruction.promoted_from,
            environment=instruction.environment,
            region=config.region,
            alias=config.alias,
            time=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            commit=instruction.commit,
            functions=functions,
            layers=layers,
            artifacts=dict(sorted(artifacts.items())),
            changed=tuple(changed),
        )
        History(self.aws, instruction.bucket, config.history_folder).write(record)
        self.result.deploy_id = instruction.deploy_id
        return f"recorded deploy {instruction.deploy_id} in s3://{instruction.bucket}/{instruction.key}"

    def _set_snapstart(self, instruction: SetSnapStart) -> str:
        name = instruction.function.name
        state = self._unchanged_since_plan(name)
        with self._races():
            self.aws.update_function_snapstart(state, instruction.enabled)
        self._functions[name] = self._read(name)
        return f"turned SnapStart {'on' if instruction.enabled else 'off'} for {name}"

    def _unchanged_since_plan(self, name: str) -> FunctionState:
        """Before the first write to a function, refuse to overwrite a change someone else made
        after the plan read it. Real Lambda also checks the RevisionId each update sends."""
        planned = self._functions[name]
        assert planned is not None
        if name in self._checked:
            return planned
        self._checked.add(name)
        current = self._read(name)
        if current.fingerprint != planned.fingerprint:
            self._functions[name] = current
            raise LostRace(name)
        return current

    @contextlib.contextmanager
    def _races(self, *also: type[Exception]) -> Iterator[None]:
        """Lambda's refusals of a write that lost a race, as LostRace (see _run_function)."""
        exceptions = self.aws.lambda_client.exceptions
        try:
            yield
        except (exceptions.PreconditionFailedException, exceptions.ResourceConflictException, *also) as e:
            raise LostRace(str(e)) from e

    def _read(self, name: str) -> FunctionState:
        state = self.aws.function(name)
        if state is None:
            raise DeployError(f"Function {name!r} disappeared while this deploy was running. Rerun apply.")
        return state


def _verify(artifact: Artifact, code: Code, reported: str, what: str, consequence: str) -> None:
    """Lambda reports the base64 SHA-256 of the bytes it got as `CodeSha256`: they must be the
    bytes of the zip we checked, or something between here and Lambda changed them."""
    if reported == artifact.code_sha256:
        return
    source = f"s3://{code.s3_bucket}/{code.s3_key}" if code.s3_key else "the request"
    hint = (
        f" If {artifact.path} is intact, the S3 object is not a copy of it: delete it and rerun."
        if code.s3_key
        else ""
    )
    raise UploadMismatchError(
        f"Lambda received other bytes than {artifact.path} ({artifact.what}) for {what}: it "
        f"reports CodeSha256 {reported}, the zip's is {artifact.code_sha256} (taken from "
        f"{source}). {consequence} {artifact.rebuild}{hint}"
    )


def _revision(state: FunctionState) -> str:
    return state.revision_id or f"modified {state.last_modified}"
