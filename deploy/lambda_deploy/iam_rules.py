"""What IAM checks for each AWS call the deploy tool makes, and whether a policy allows it.

moto does not enforce IAM on Lambda (it authorizes Lambda actions only against resource `*`), so
the tests check deploy/iam-policy.json another way: they record every call the tool makes (a
botocore event hook, see conftest.py), turn each into the permissions AWS requires for it, from
the AWS Lambda and Amazon S3 service authorization references, and evaluate the policy here.
Test support only; the deploy tool does not import it.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from lambda_deploy.iam import partition

# moto's account.
EMULATOR_ACCOUNT = "123456789012"

# Calls the tool makes only on the local emulator, to create what infrastructure code creates
# on AWS: the policy must not grant them.
EMULATOR_ONLY = {
    ("lambda", "CreateFunction"),
    ("s3", "CreateBucket"),
    ("iam", "GetRole"),
    ("iam", "CreateRole"),
}


class UnknownCall(Exception):
    """A call this module cannot map to IAM permissions: add it here, from the reference."""


@dataclass(frozen=True)
class Permission:
    action: str
    resource: str

    def __str__(self) -> str:
        return f"{self.action} on {self.resource}"


def required(service: str, operation: str, params: dict[str, Any], region: str) -> list[Permission]:
    """The permissions IAM checks before it lets `operation` with `params` through."""
    lambda_arn = f"arn:{partition(region)}:lambda:{region}:{EMULATOR_ACCOUNT}"
    s3_arn = f"arn:{partition(region)}:s3:::"

    def function(name: str) -> str:
        return name if name.startswith("arn:") else f"{lambda_arn}:function:{name}"

    def layer(name: str) -> str:
        return name if name.startswith("arn:") else f"{lambda_arn}:layer:{name}"

    def from_s3(code: dict[str, Any]) -> list[Permission]:
        # Lambda fetches an S3 zip with the caller's permissions.
        if "S3Bucket" not in code:
            return []
        return [Permission("s3:GetObject", f"{s3_arn}{code['S3Bucket']}/{code['S3Key']}")]

    key = (service, operation)
    if key in (
        ("lambda", "GetFunction"),
        ("lambda", "GetFunctionConfiguration"),
        ("lambda", "ListVersionsByFunction"),
        ("lambda", "PublishVersion"),
        # Alias actions are checked against the function (the alias is a sub-resource of it).
        ("lambda", "GetAlias"),
        ("lambda", "CreateAlias"),
        ("lambda", "UpdateAlias"),
        ("lambda", "ListAliases"),
    ):
        return [Permission(f"lambda:{operation}", function(params["FunctionName"]))]
    if key == ("lambda", "DeleteFunction"):
        # With a Qualifier, IAM checks the version's ARN: function:NAME:VERSION.
        qualifier = f":{params['Qualifier']}" if params.get("Qualifier") else ""
        return [Permission("lambda:DeleteFunction", f"{function(params['FunctionName'])}{qualifier}")]
    if key == ("lambda", "DeleteLayerVersion"):
        return [
            Permission("lambda:DeleteLayerVersion", f"{layer(params['LayerName'])}:{params['VersionNumber']}")
        ]
    if key == ("lambda", "UpdateFunctionCode"):
        return [Permission("lambda:UpdateFunctionCode", function(params["FunctionName"])), *from_s3(params)]
    if key in (("lambda", "UpdateFunctionConfiguration"), ("lambda", "CreateFunction")):
        # Attaching a layer version needs lambda:GetLayerVersion on it.
        return [
            Permission(f"lambda:{operation}", function(params["FunctionName"])),
            *(Permission("lambda:GetLayerVersion", arn) for arn in params.get("Layers", [])),
            *from_s3(params.get("Code", {})),
        ]
    if key in (("lambda", "ListLayerVersions"), ("lambda", "PublishLayerVersion")):
        return [
            Permission(f"lambda:{operation}", layer(params["LayerName"])),
            *from_s3(params.get("Content", {})),
        ]
    if key == ("lambda", "GetLayerVersion"):
        return [
            Permission("lambda:GetLayerVersion", f"{layer(params['LayerName'])}:{params['VersionNumber']}")
        ]
    if key in (("s3", "HeadBucket"), ("s3", "ListObjectsV2")):
        return [Permission("s3:ListBucket", f"{s3_arn}{params['Bucket']}")]
    if key == ("s3", "HeadObject"):
        return [Permission("s3:GetObject", f"{s3_arn}{params['Bucket']}/{params['Key']}")]
    if key in (("s3", "PutObject"), ("s3", "GetObject")):
        return [Permission(f"s3:{operation}", f"{s3_arn}{params['Bucket']}/{params['Key']}")]
    if key == ("s3", "CreateBucket"):
        return [Permission("s3:CreateBucket", f"{s3_arn}{params['Bucket']}")]
    if key == ("cloudwatch", "DescribeAlarms"):
        return [
            Permission(
                "cloudwatch:DescribeAlarms",
                f"arn:{partition(region)}:cloudwatch:{region}:{EMULATOR_ACCOUNT}:alarm:{name}",
            )
            for name in params.get("AlarmNames", [])
        ]
    if key == ("sts", "GetCallerIdentity"):
        return []  # allowed to every identity, whatever its policies say
    if key in (("iam", "GetRole"), ("iam", "CreateRole")):
        return [Permission(f"iam:{operation}", f"arn:aws:iam::{EMULATOR_ACCOUNT}:role/{params['RoleName']}")]
    raise UnknownCall(f"{service}:{operation}")


def statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in policy["Statement"] if s["Effect"] == "Allow"]


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def grants(statement: dict[str, Any], permission: Permission) -> bool:
    # IAM matches actions case-insensitively and resources case-sensitively; `*` and `?` are
    # wildcards in both, and `*` spans `:` and `/`. The account ID is `*` in our policy.
    return any(
        fnmatch.fnmatch(permission.action.lower(), pattern.lower())
        for pattern in _listed(statement["Action"])
    ) and any(fnmatch.fnmatchcase(permission.resource, pattern) for pattern in _listed(statement["Resource"]))


def allows(policy: dict[str, Any], permission: Permission) -> bool:
    return any(grants(statement, permission) for statement in statements(policy))


def grants_used(policy: dict[str, Any], needed: list[Permission]) -> dict[str, bool]:
    """For each action-on-resource the policy grants, whether some needed permission uses it."""
    used = {}
    for statement in statements(policy):
        for action in _listed(statement["Action"]):
            for resource in _listed(statement["Resource"]):
                single = {"Action": action, "Resource": resource}
                used[f"{action} on {resource}"] = any(grants(single, p) for p in needed)
    return used


def without(policy: dict[str, Any], action: str) -> dict[str, Any]:
    """The policy with one action dropped everywhere."""
    kept = []
    for statement in statements(policy):
        actions = [a for a in _listed(statement["Action"]) if a != action]
        if actions:
            kept.append({**statement, "Action": actions})
    return {**policy, "Statement": kept}
