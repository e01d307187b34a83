"""`python_aws_lambda_function` and `python_aws_lambda_layer`, as Pants 2.18+ defines them.

Aliases, field names and defaults mirror upstream
(src/python/pants/backend/awslambda/python/target_types.py), so BUILD files keep working when
Pants is upgraded and this plugin is deleted. Where upstream falls back to a guess (an unknown
runtime), this backport refuses instead: it derives the platform from facts it knows.
"""

from __future__ import annotations

from lambda_artifacts.metadata import FUNCTION_TARGET_TYPE, HANDLER_MODULE, LAYER_TARGET_TYPE
from lambda_targets.platforms import KNOWN_ARCHITECTURES, KNOWN_RUNTIMES
from pants.backend.python.target_types import PythonResolveField
from pants.backend.python.util_rules.faas import (
    PythonFaaSCompletePlatforms,
    PythonFaaSDependencies,
    PythonFaaSHandlerField,
)
from pants.core.goals.package import OutputPathField
from pants.engine.target import (
    COMMON_TARGET_FIELDS,
    BoolField,
    InvalidTargetException,
    SpecialCasedDependencies,
    StringField,
    StringSequenceField,
    Target,
)
from pants.util.strutil import help_text, softwrap

LAMBDA_DOCS = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-python.html"
LAYER_DOCS = "https://docs.aws.amazon.com/lambda/latest/dg/configuration-layers.html"


class PythonAwsLambdaHandlerField(PythonFaaSHandlerField):
    # The name the AWS console gives a new Python function's module: every function built
    # here is configured with the same handler, `lambda_function.handler`.
    reexported_handler_module = HANDLER_MODULE
    help = help_text(f"""
        Entry point to the AWS Lambda handler.

        {PythonFaaSHandlerField.help}

        This is re-exported at `{reexported_handler_module}.handler` in the resulting package, to be
        used as the configured handler of the Lambda in AWS. See {LAMBDA_DOCS}.
        """)


class PythonAwsLambdaIncludeRequirements(BoolField):
    alias = "include_requirements"
    default = True
    help = help_text(f"""
        Whether to resolve requirements and include them in the AWS Lambda artifact. Set it to
        `False` on functions whose third-party code comes from layers. See {LAYER_DOCS}.
        """)


class PythonAwsLambdaIncludeSources(BoolField):
    alias = "include_sources"
    default = True
    help = help_text(f"""
        Whether to include first-party sources in the AWS Lambda artifact. Set it to `False` to
        build a layer of third-party requirements only. See {LAYER_DOCS}.
        """)


class PythonAwsLambdaRuntime(StringField):
    alias = "runtime"
    default = None
    valid_choices = KNOWN_RUNTIMES
    help = help_text(f"""
        The identifier of the AWS Lambda runtime to target (pythonX.Y). See {LAMBDA_DOCS}.

        With `architecture`, it decides which wheels are used: the CPython version, and the
        newest glibc that manylinux wheels may need (2.26 on Amazon Linux 2 runtimes, up to
        python3.11; 2.34 on Amazon Linux 2023 runtimes, python3.12 and later).

        Only one of this and `complete_platforms` can be set.
        """)


class AWSLambdaArchitectureField(StringField):
    alias = "architecture"
    valid_choices = KNOWN_ARCHITECTURES
    expected_type = str
    default = "x86_64"
    help = help_text("""
        The architecture of the AWS Lambda runtime to target (x86_64 or arm64).
        See https://docs.aws.amazon.com/lambda/latest/dg/foundation-arch.html.
        """)


class PythonAwsLambdaLayerDependenciesField(PythonFaaSDependencies):
    required = True


# The three fields below are this repository's additions; upstream Pants has none of them, and
# rejects them as `Unrecognized field`. Upgrading Pants means keeping a small plugin for them, or
# dropping them (see docs/upgrading-pants.md).


class PythonAwsLambdaLayersField(SpecialCasedDependencies):
    # Special-cased dependencies: `dependents`, `peek` and `--changed-since` see the function as a
    # dependent of its layers (a change to a layer reruns the function's Lambda-sandbox check,
    # which runs it with them), but the function's own closure (`TransitiveTargets`) leaves them
    # out: its zip holds none of their code.
    alias = "layers"
    default = ()
    help = help_text(f"""
        Addresses of the `python_aws_lambda_layer` targets this function runs with, in the order
        Lambda applies them (a later layer overwrites an earlier one). See {LAYER_DOCS}.

        `package` checks the function against them: every third-party distribution the function
        depends on must be in one of them, each must be built for the function's `runtime` and
        `architecture`, and together they must fit Lambda's unzipped size limit. The list is
        recorded in the function's `.metadata.json`, which the deploy tool reads to set the
        function's layers. Set it once for the whole repository in the root BUILD's
        `__defaults__`; Lambda allows at most 5.

        Upstream Pants has no such field (pantsbuild/pants#19256).
        """)


class PythonAwsLambdaExclude(StringSequenceField):
    alias = "exclude"
    default = ("bin/**", "**/__pycache__/**")
    help = help_text("""
        Globs of files to leave out of the artifact, relative to its root (for a layer, the
        `python/` folder). `**` spans folders; `*` and `?` stay within one.

        The default drops what cannot run on Lambda: console scripts in `bin/`, whose shebang
        names this machine's interpreter, and any `__pycache__` that came with a distribution
        (compiled for another Python, or timestamped; `compile_bytecode` writes ones that work).
        A list you set replaces the default, so repeat it to add to it, e.g.
        `exclude=["bin/**", "**/__pycache__/**", "**/tests/**", "**/*.pyi"]`: packages' test
        suites and type stubs are never imported at run time.

        """)


class PythonAwsLambdaCompileBytecode(BoolField):
    alias = "compile_bytecode"
    default = False
    help = help_text("""
        Whether to ship `.pyc` files compiled for the runtime's Python version, in unchecked-hash
        mode. Lambda's code folders are read-only, so without them every cold start compiles
        every module it imports. Needs a local CPython of the runtime's version to compile with.
        """)


class PythonAwsLambdaLayerCompileBytecode(PythonAwsLambdaCompileBytecode):
    # Layers carry the big third-party imports, where bytecode saves most of a cold start.
    default = True


class _AWSLambdaBaseTarget(Target):
    core_fields = (
        *COMMON_TARGET_FIELDS,
        OutputPathField,
        PythonAwsLambdaIncludeRequirements,
        PythonAwsLambdaRuntime,
        AWSLambdaArchitectureField,
        PythonFaaSCompletePlatforms,
        PythonResolveField,
    )

    def validate(self) -> None:
        has_runtime = self[PythonAwsLambdaRuntime].value is not None
        has_complete_platforms = self[PythonFaaSCompletePlatforms].value is not None
        if has_runtime and has_complete_platforms:
            raise InvalidTargetException(softwrap(f"""
                    The `{self.alias}` target {self.address} sets both `runtime` and
                    `complete_platforms`. Remove `runtime` to use only the complete platforms,
                    or remove `complete_platforms` to use the platform `runtime` implies.
                    """))
        if not has_runtime and not has_complete_platforms:
            raise InvalidTargetException(softwrap(f"""
                    The `{self.alias}` target {self.address} sets neither `runtime` nor
                    `complete_platforms`, so its platform is unknown. Add, for example,
                    `runtime="python3.11"` to it, or to `__defaults__` in a parent BUILD file.
                    """))


class PythonAWSLambda(_AWSLambdaBaseTarget):
    alias = FUNCTION_TARGET_TYPE
    core_fields = (
        *_AWSLambdaBaseTarget.core_fields,
        PythonFaaSDependencies,
        PythonAwsLambdaHandlerField,
        PythonAwsLambdaLayersField,
        PythonAwsLambdaExclude,
        PythonAwsLambdaCompileBytecode,
    )
    help = help_text(f"""
        A Python function for AWS Lambda, as a zip of its code and (unless
        `include_requirements=False`) its requirements. See {LAMBDA_DOCS}.
        """)


class PythonAWSLambdaLayer(_AWSLambdaBaseTarget):
    alias = LAYER_TARGET_TYPE
    core_fields = (
        *_AWSLambdaBaseTarget.core_fields,
        PythonAwsLambdaIncludeSources,
        PythonAwsLambdaLayerDependenciesField,
        PythonAwsLambdaExclude,
        PythonAwsLambdaLayerCompileBytecode,
    )

    help = help_text(f"""
        A Python layer for AWS Lambda: its `dependencies`, installed under `python/` in a zip,
        which Lambda unpacks into `/opt/python` on `sys.path`. See {LAYER_DOCS}.
        """)
