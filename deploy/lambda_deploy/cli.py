"""./pants run deploy -- plan|apply [--local | --endpoint-url URL | --aws] [--json]
./pants run deploy -- plan --detailed-exitcode
./pants run deploy -- history [--json]
./pants run deploy -- rollback [--to DEPLOY_ID]
./pants run deploy -- prune --keep N [--dry-run]
./pants run deploy -- promote --from staging --to prod
./pants run deploy -- emulator [--port 5000]
(each with --env NAME: an [environments.NAME] of deploy.toml)
./pants run deploy -- invoke NAME --event FILE|-
./pants run deploy -- iam-policy [--account ID]

Publishes the layers whose bytes changed, updates the functions whose code changed, points
each function at its layers' right versions, publishes a version of each function that changed
and moves its alias there, and records the deploy in the history. `plan` says what `apply` would
do and changes nothing. The default target is a local emulator started for the run, so it needs
no AWS account. `history` lists the deploys recorded, newest first; `rollback` moves every
alias back to the versions of the deploy before the live one (or of the one named), building and
uploading nothing; `prune` deletes the versions that no alias, `$LATEST` or recent deploy needs.
`invoke` runs one built
function locally, with its layers, the way Lambda does. `iam-policy` prints the least-privilege
IAM policy that `apply --aws` needs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError
from lambda_artifacts.size_limit import human_size
from lambda_deploy import iam, local_invoke, preflight
from lambda_deploy import prune as prune_module
from lambda_deploy.apply import LOCAL_ROLE_NAME, Executor, Interrupted
from lambda_deploy.aws import Aws, make_clients
from lambda_deploy.config import DEFAULT_CONFIG, DEFAULT_DIST, DeployConfig, load_config, load_settings
from lambda_deploy.emulator import LOCAL_CREDENTIALS, LocalEmulator, create_infrastructure
from lambda_deploy.errors import ArtifactError, DeployError
from lambda_deploy.history import History, current_commit, new_deploy_id
from lambda_deploy.plan import DeployTarget, Recording, make_plan
from lambda_deploy.promote import check_promotable
from lambda_deploy.prune import PruneInterrupted, carry_out, make_prune_plan, prune_summary, prune_text
from lambda_deploy.report import (
    history_text,
    markdown,
    plan_text,
    result_text,
    rollback_summary,
    rollback_text,
    summary,
)
from lambda_deploy.rollback import choose_deploy, is_live, make_rollback_plan

logger = logging.getLogger(__name__)

# Functions updated at a time. Lambda's control plane allows 15 UpdateFunctionConfiguration and
# UpdateFunctionCode requests a second per account, far more than 8 functions' updates, each of
# which then waits seconds for Lambda: enough to cut a 50-function layer bump from minutes to
# seconds, few enough to leave room for other deploys (throttling is retried with backoff).
DEFAULT_PARALLEL = 8
# What a shell reports for a process ended by Ctrl-C (128 + SIGINT).
EXIT_INTERRUPTED = 130
# `plan --detailed-exitcode`, as `terraform plan` has it: 0 AWS matches dist/, 1 error, 2 changes.
EXIT_CHANGES_PENDING = 2
# Where `emulator` listens unless told: moto's own default.
DEFAULT_EMULATOR_PORT = 5000


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="./pants run deploy --", description=__doc__.split("\n\n")[1])
    commands = parser.add_subparsers(
        dest="command",
        required=True,
        metavar="{plan,apply,history,rollback,prune,promote,emulator,invoke,iam-policy}",
    )
    # Where the configuration and the built artifacts are: every command reads both.
    paths = argparse.ArgumentParser(add_help=False)
    paths.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help=f"default: {DEFAULT_CONFIG}")
    paths.add_argument(
        "--dist",
        type=Path,
        default=DEFAULT_DIST,
        help=f"where ./pants package wrote (default: {DEFAULT_DIST})",
    )
    # Where the deploy goes: plan, apply and history read AWS.
    endpoints = argparse.ArgumentParser(add_help=False, parents=[paths])
    where = endpoints.add_mutually_exclusive_group()
    where.add_argument(
        "--local", action="store_true", help="a local emulator started for this run (the default)"
    )
    where.add_argument(
        "--endpoint-url", metavar="URL", help="an emulator or endpoint that is already running"
    )
    where.add_argument("--aws", action="store_true", help="real AWS, with the standard credential chain")
    endpoints.add_argument("--json", action="store_true", help="print a machine-readable summary on stdout")
    endpoints.add_argument("-v", "--verbose", action="store_true", help="log every AWS call")
    environment = argparse.ArgumentParser(add_help=False)
    environment.add_argument(
        "--env",
        metavar="NAME",
        help="deploy.toml's [environments.NAME] (default: its top-level settings)",
    )
    places = argparse.ArgumentParser(add_help=False, parents=[endpoints, environment])
    parallel = argparse.ArgumentParser(add_help=False)
    parallel.add_argument(
        "--parallel",
        type=_positive,
        default=DEFAULT_PARALLEL,
        metavar="N",
        help=f"update up to N functions at a time, after the layers (default: {DEFAULT_PARALLEL})",
    )
    summarizing = argparse.ArgumentParser(add_help=False)
    summarizing.add_argument(
        "--summary-markdown",
        type=Path,
        metavar="FILE",
        help="append a Markdown summary to FILE (e.g. $GITHUB_STEP_SUMMARY)",
    )
    options = argparse.ArgumentParser(add_help=False, parents=[places, parallel, summarizing])
    options.add_argument(
        "--skip-missing",
        action="store_true",
        help="leave deployed as they are the artifacts that were not built (CI builds only what changed)",
    )
    plan = commands.add_parser("plan", parents=[options], help="say what apply would do; change nothing")
    plan.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help=f"exit 0 if AWS matches the artifacts, {EXIT_CHANGES_PENDING} if apply would change something, 1 on error",
    )
    history = commands.add_parser("history", parents=[places], help="list the deploys recorded, newest first")
    history.add_argument("--limit", type=_positive, metavar="N", help="only the newest N")
    rollback = commands.add_parser(
        "rollback",
        parents=[places, parallel],
        help="move every alias back to an earlier deploy's versions; build and upload nothing",
    )
    rollback.add_argument(
        "--to",
        metavar="DEPLOY_ID",
        help="the deploy to restore (default: the one before the live one; `history` lists them)",
    )
    commands.add_parser(
        "apply", parents=[options], help="publish what changed and set each function's layers"
    )
    promote = commands.add_parser(
        "promote",
        parents=[endpoints, parallel, summarizing],
        help="deploy to one environment exactly the artifacts another's last deploy recorded",
    )
    promote.add_argument("--from", dest="source_env", required=True, metavar="NAME", help="e.g. staging")
    promote.add_argument("--to", dest="target_env", required=True, metavar="NAME", help="e.g. prod")
    prune = commands.add_parser(
        "prune",
        parents=[places],
        help="delete the versions no alias, $LATEST or recent deploy needs",
        description=prune_module.__doc__.split("\n\n")[0],
    )
    prune.add_argument(
        "--keep",
        type=_whole,
        required=True,
        metavar="N",
        help="keep every version the last N deploys of the history used (0: only what aliases and $LATEST use)",
    )
    prune.add_argument("--dry-run", action="store_true", help="say what would be deleted; delete nothing")
    emulator = commands.add_parser(
        "emulator",
        parents=[paths, environment],
        help="run the local emulator until Ctrl-C, for --endpoint-url",
        description="Starts the local emulator (moto's server) in the foreground, creates the bucket and "
        "every built function with placeholder code, as infrastructure code would, and prints its URL; "
        "plan, apply, history, rollback and prune then take --endpoint-url URL. Ctrl-C stops it.",
    )
    emulator.add_argument(
        "--port",
        type=_whole,
        default=DEFAULT_EMULATOR_PORT,
        help=f"default {DEFAULT_EMULATOR_PORT}; 0: any free port",
    )
    invoke = commands.add_parser(
        "invoke",
        parents=[paths],
        help="run one built function locally, with its layers, as Lambda does",
        description=local_invoke.__doc__.split("\n\n")[1],
    )
    local_invoke.add_arguments(invoke)
    policy = commands.add_parser(
        "iam-policy",
        parents=[paths, environment],
        help="print the least-privilege IAM policy that apply --aws needs",
        description=iam.__doc__.split("\n\n")[1],
    )
    policy.add_argument(
        "--account",
        default=iam.ANY_ACCOUNT,
        metavar="ID",
        help="the AWS account's 12-digit ID in the ARNs (default: *, the role's own account)",
    )
    return parser.parse_args(argv)


def _whole(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"takes a whole number of deploys, 0 or more, not {text!r}")
    return int(text)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"takes a whole number of functions, 1 or more, not {text!r}")
    return value


def choose_target(args: argparse.Namespace) -> DeployTarget:
    if args.aws:
        return DeployTarget("AWS (standard credential chain)", endpoint_url=None, creates_missing=False)
    if args.endpoint_url:
        return DeployTarget(f"the endpoint {args.endpoint_url}", args.endpoint_url, creates_missing=False)
    return DeployTarget("the local emulator", endpoint_url=None, creates_missing=True)


@contextlib.contextmanager
def connect(target: DeployTarget, config: DeployConfig) -> Iterator[tuple[DeployTarget, Aws]]:
    if target.creates_missing:
        with LocalEmulator() as emulator:
            target = replace(target, description=emulator.description, endpoint_url=emulator.endpoint_url)
            yield target, make_clients(config.region, emulator.endpoint_url, LOCAL_CREDENTIALS)
        return
    # An emulator on loopback takes any credentials; don't make people configure some.
    credentials = LOCAL_CREDENTIALS if target.is_loopback else None
    aws = make_clients(config.region, target.endpoint_url, credentials)
    check_account(aws, config)
    yield target, aws


def check_account(aws: Aws, config: DeployConfig) -> None:
    """An environment that names its account is deployed only there: the wrong credentials stop
    the run before any change."""
    if config.account_id is None:
        return
    account = aws.account_id()
    if account != config.account_id:
        raise DeployError(
            f"The credentials are for AWS account {account}, but the environment "
            f"{config.environment!r} is account {config.account_id} ([environments."
            f"{config.environment}] account_id in {config.path}). Use that account's credentials, "
            f"or another --env. Nothing was changed."
        )


class Deployment:
    """One plan or apply. Remembers how far apply got, for what an error or Ctrl-C says."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.executor: Executor | None = None

    def rollback(self) -> int:
        args = self.args
        config = history_config(args)
        human = sys.stderr if args.json else sys.stdout
        with connect(choose_target(args), config) as (target, aws):
            history = History(aws, config.bucket, config.history_folder)
            record = choose_deploy(history, args.to, lambda newest: is_live(newest, aws, config.alias))
            plan = make_rollback_plan(config, record, aws, target, Recording(new_deploy_id(), record.commit))
            print(rollback_text(plan, record), file=human, flush=True)
            self.executor = Executor(
                plan, aws, args.parallel, report=lambda line: print(line, file=human, flush=True)
            )
            result = self.executor.run()
            if result.deploy_id:
                print(f"\nRecorded as deploy {result.deploy_id}.", file=human)
            if args.json:
                print(json.dumps(rollback_summary(plan, record, result), indent=2))
        return 0

    def prune(self) -> int:
        args = self.args
        config = history_config(args)
        human = sys.stderr if args.json else sys.stdout
        with connect(choose_target(args), config) as (target, aws):
            history = History(aws, config.bucket, config.history_folder)
            plan = make_prune_plan(config, aws, history, args.keep)
            print(prune_text(plan, f"{target.description}, region {config.region}"), file=human, flush=True)
            did, freed = None, None
            if args.dry_run:
                print("\nDry run: nothing was deleted.", file=human)
            elif plan.deletions:
                print("\nDeleted:", file=human, flush=True)
                did, freed = carry_out(plan, aws, lambda line: print(line, file=human, flush=True))
                print(f"\nFreed {human_size(freed)} of Lambda code storage.", file=human)
            if args.json:
                print(json.dumps(prune_summary(plan, did, freed), indent=2))
        return 0

    def run(self) -> int:
        args = self.args
        if args.command == "rollback":
            return self.rollback()
        if args.command == "prune":
            return self.prune()
        if args.command == "promote":
            return self.promote()
        config = load_config(args.config, args.dist, skip_missing=args.skip_missing, environment=args.env)
        return self.deploy(config, Recording(new_deploy_id(), current_commit()))

    def promote(self) -> int:
        """Reads the source environment's last deploy, checks dist/ holds its very bytes, and
        deploys them to the target environment."""
        args = self.args
        # Read with the target environment's credentials: its role needs read access to the
        # source's history folder, not the source account's deploy rights.
        source = replace(history_config(args, args.source_env), account_id=None)
        config = load_config(args.config, args.dist, environment=args.target_env)
        with connect(choose_target(args), source) as (_, aws):
            history = History(aws, source.bucket, source.history_folder)
            ids = history.ids()
            if not ids:
                raise DeployError(
                    f"No deploy is recorded for the environment {args.source_env!r} "
                    f"(s3://{source.bucket}/{source.history_folder}): deploy there first, then "
                    f"promote. Nothing was changed."
                )
            record = history.read(ids[0])
        check_promotable(record, config, args.source_env)
        recording = Recording(
            new_deploy_id(), record.commit, promoted_from=f"{args.source_env}:{record.deploy_id}"
        )
        return self.deploy(config, recording)

    def deploy(self, config: DeployConfig, recording: Recording) -> int:
        args = self.args
        artifacts = preflight.load_artifacts(config)
        target = choose_target(args)
        # Everything AWS would refuse, or that must not go to this target, fails here: before any call.
        sizes = preflight.check(config, artifacts, target)
        human = sys.stderr if args.json else sys.stdout
        with connect(target, config) as (target, aws):
            plan = make_plan(config, artifacts, aws, target, recording)
            print(plan_text(plan, sizes), file=human)
            result = None
            if args.command in ("apply", "promote"):
                if plan.changes_anything:
                    print("\nApplied:", file=human, flush=True)
                self.executor = Executor(
                    plan, aws, args.parallel, report=lambda line: print(line, file=human, flush=True)
                )
                result = self.executor.run()
                print(result_text(plan, result), file=human)
            outcome = summary(args.command, plan, sizes, result)
            if args.json:
                print(json.dumps(outcome, indent=2))
            if getattr(args, "summary_markdown", None):
                with args.summary_markdown.open("a") as out:
                    out.write(markdown(outcome))
        if args.command == "plan" and args.detailed_exitcode and plan.changes_anything:
            return EXIT_CHANGES_PENDING
        return 0

    def what_happened(self) -> str:
        """The end of an error message: whether anything changed, and what to do about it."""
        if self.executor is None or not self.executor.progress.changed_anything:
            return "Nothing was changed."
        return f"So far, {self.executor.progress.sentence()}. Fix the cause, then rerun apply to finish."


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "invoke":
        return local_invoke.run(args)
    if args.command == "iam-policy":
        return print_policy(args)
    if args.command == "emulator":
        return run_emulator(args)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s", stream=sys.stderr
    )
    if not args.verbose:
        logging.getLogger("botocore").setLevel(logging.WARNING)
    deployment = Deployment(args)
    try:
        if args.command == "history":
            return print_history(args)
        return deployment.run()
    except (Interrupted, PruneInterrupted) as e:
        # Ctrl-C during apply: one line, no traceback. The executor's threads are daemons.
        print(f"\n{e}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print("\nInterrupted before any change: nothing was changed.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except DeployError as e:
        print(f"error: {_ending(str(e), deployment)}", file=sys.stderr)
    except NoCredentialsError:
        print(
            "error: no AWS credentials were found (environment, ~/.aws, SSO or an instance role). "
            "Configure them, or deploy to the local emulator with --local. Nothing was changed.",
            file=sys.stderr,
        )
    except EndpointConnectionError as e:
        reason = f"cannot reach {e.kwargs.get('endpoint_url')}: is the emulator running?"
        print(f"error: {_ending(reason, deployment)}", file=sys.stderr)
    except ClientError as e:
        error = e.response.get("Error", {})
        reason = f"AWS refused {e.operation_name}: {error.get('Code')}: {error.get('Message')}."
        if error.get("Code") in ("AccessDenied", "AccessDeniedException"):
            reason += (
                " The deploy role lacks that permission: give it the policy that "
                "`./pants run deploy -- iam-policy` prints (deploy/iam-policy.json)."
            )
        print(f"error: {_ending(reason, deployment)}", file=sys.stderr)
    except BotoCoreError as e:
        print(f"error: {_ending(str(e), deployment)}", file=sys.stderr)
    return 1


def history_config(args: argparse.Namespace, environment: str | None = None) -> DeployConfig:
    """What history, rollback and prune need: deploy.toml for the environment, and the functions
    of the BUILD files as far as dist/ knows them (none on a machine that has built nothing: the
    history says which)."""
    environment = environment or getattr(args, "env", None)
    try:
        return load_config(args.config, args.dist, skip_missing=True, environment=environment)
    except ArtifactError:
        return load_settings(args.config, environment).without_artifacts()


def run_emulator(args: argparse.Namespace) -> int:
    try:
        config = history_config(args)
        with LocalEmulator(port=args.port) as emulator:
            aws = make_clients(config.region, emulator.endpoint_url, LOCAL_CREDENTIALS)
            created = create_infrastructure(aws, config, LOCAL_ROLE_NAME)
            url = emulator.endpoint_url
            print(f"The local emulator is running at {url} (region {config.region}).")
            print(
                f"Created, as infrastructure code would: {', '.join(created) or 'nothing (nothing built yet)'}."
            )
            print(f"Try: ./pants run deploy -- apply --endpoint-url {url}")
            print(f"     ./pants run deploy -- history --endpoint-url {url}")
            print("Ctrl-C stops it; everything in it is forgotten.", flush=True)
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        print("\nStopped the local emulator.", file=sys.stderr)
        return 0
    except OSError as e:
        print(
            f"error: cannot start the emulator on port {args.port}: {e.strerror or e}. Pass --port 0 for any free port, or another one.",
            file=sys.stderr,
        )
        return 1
    except DeployError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


def print_history(args: argparse.Namespace) -> int:
    config = history_config(args)
    with connect(choose_target(args), config) as (target, aws):
        records = History(aws, config.bucket, config.history_folder).newest(args.limit)
        if args.json:
            print(json.dumps([record.as_json() for record in records], indent=2))
        else:
            print(history_text(records, f"{target.description}, region {config.region}"))
    return 0


def print_policy(args: argparse.Namespace) -> int:
    if args.account != iam.ANY_ACCOUNT and not (args.account.isdigit() and len(args.account) == 12):
        print(f"error: --account takes a 12-digit AWS account ID, not {args.account!r}.", file=sys.stderr)
        return 2
    try:
        # Every function in the BUILD files, built or not: the role must be able to deploy them all.
        config = load_config(args.config, args.dist, skip_missing=True, environment=args.env)
    except DeployError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(json.dumps(iam.deploy_policy(config, args.account), indent=2))
    return 0


def _ending(message: str, deployment: Deployment) -> str:
    ending = deployment.what_happened()
    if ending == "Nothing was changed." and "Nothing was changed." in message:
        return message
    return f"{message.rstrip()} {ending}"


def entry_point() -> None:
    """How the tool runs as a program (deploy/BUILD's pex, the tests' own processes). After
    Ctrl-C, a worker thread may still be in an AWS call past the executor's grace period: the
    interpreter's shutdown would then abort on the lock that thread holds on stdout, with exit
    -6 and a fatal error in place of the one-line report. Leave without that shutdown instead;
    everything worth saying has been printed and flushed."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    if code == EXIT_INTERRUPTED and any(t.daemon and t.is_alive() for t in threading.enumerate()):
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry_point()
