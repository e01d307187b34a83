"""Backport of Pants 2.18's AWS Lambda targets to Pants 2.17.

Registers `python_aws_lambda_function` and `python_aws_lambda_layer` with the same aliases and
fields as upstream, so upgrading Pants means deleting this plugin. Never enable
`pants.backend.awslambda.python` beside it.
See https://www.pantsbuild.org/2.18/docs/awslambda-python.
"""

from lambda_targets import interpreters, unowned_imports, uv
from lambda_targets import rules as lambda_rules
from lambda_targets.target_types import PythonAWSLambda, PythonAWSLambdaLayer
from pants.backend.python.util_rules import faas
from pants.engine.rules import collect_rules
from pants.engine.target import InferDependenciesRequest
from pants.engine.unions import UnionRule


def rules():
    # Pants' error for an import no requirement owns, plus where to add the requirement.
    unowned_imports.install()
    # From Pants' own FaaS support, only what our targets share with it: resolving the
    # `handler` field, inferring a dependency on its module, and reading complete platforms.
    shared_faas_rules = collect_rules(
        {
            "resolve_python_faas_handler": faas.resolve_python_faas_handler,
            "infer_faas_handler_dependency": faas.infer_faas_handler_dependency,
            "digest_complete_platforms": faas.digest_complete_platforms,
        }
    )
    return [
        *shared_faas_rules,
        UnionRule(InferDependenciesRequest, faas.InferPythonFaaSHandlerDependency),
        *lambda_rules.rules(),
        *interpreters.rules(),
        *uv.rules(),
        *uv.Uv.rules(),
    ]


def target_types():
    return [PythonAWSLambda, PythonAWSLambdaLayer]
