"""The least-privilege IAM policy the role running `apply --aws` needs.

It is derived, never written by hand: the functions and layers come from what `./pants package`
recorded (every function in the BUILD files, and the layers they use), their AWS names, the
region and the artifacts bucket from deploy.toml. `./pants run deploy -- iam-policy` prints it;
deploy/iam-policy.json is that output, checked by a test against the BUILD files and deploy.toml.

What each grant is for (the AWS Lambda and S3 service authorization references):

- functions: `GetFunction` (read code digest, layers, revision; the waiters poll it too),
  `UpdateFunctionCode`, `UpdateFunctionConfiguration` (the layer list), `ListVersionsByFunction`
  and `PublishVersion` (a version per deploy), `GetAlias`, `CreateAlias` and `UpdateAlias` (the
  alias callers invoke, which IAM checks against the function's own ARN);
- layers: `ListLayerVersions` and `PublishLayerVersion` on the layer, `GetLayerVersion` on its
  versions (to find a version with the same bytes, and to attach a version to a function) and
  `DeleteLayerVersion` (prune);
- `ListAliases` on each function, and `DeleteFunction` on its versions only (`function:NAME:*`:
  a qualified ARN, so never the function itself): prune;
- the bucket: `s3:ListBucket` (HeadBucket; it also makes a missing object a 404 rather than 403),
  `s3:GetObject` (HeadObject, and Lambda reads the zip as the caller) and `s3:PutObject` under
  the artifacts prefix and the deploy history's prefix only (one record per deploy, read back by
  `history`).

- `cloudwatch:DescribeAlarms` on the alarms a gradual rollout watches, if any;

Creating functions, buckets and roles happens only on the local emulator; on AWS infrastructure
code owns them, so the policy grants none of it.
"""

from __future__ import annotations

from typing import Any

from lambda_deploy.config import DeployConfig

FUNCTION_ACTIONS = (
    "lambda:GetFunction",
    "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration",
    "lambda:ListVersionsByFunction",
    "lambda:PublishVersion",
    # On the function's own ARN: IAM checks alias actions against the function they belong to.
    "lambda:GetAlias",
    "lambda:CreateAlias",
    "lambda:UpdateAlias",
    "lambda:ListAliases",
)
# On the function's versions only (`function:NAME:*`), never the function itself: prune.
FUNCTION_VERSION_ACTIONS = ("lambda:DeleteFunction",)
LAYER_ACTIONS = ("lambda:ListLayerVersions", "lambda:PublishLayerVersion")
LAYER_VERSION_ACTIONS = ("lambda:GetLayerVersion", "lambda:DeleteLayerVersion")
BUCKET_ACTIONS = ("s3:ListBucket",)
OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject")

# An identity policy acts in its own account only (another account's resources would also need
# that account's resource policy), so `*` here means "this account" without naming it.
ANY_ACCOUNT = "*"


def partition(region: str) -> str:
    """The ARN partition a region belongs to: `aws`, or the China or GovCloud partitions."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def deploy_policy(config: DeployConfig, account: str = ANY_ACCOUNT) -> dict[str, Any]:
    """The policy document, as JSON-ready data. Same inputs, same document: names are sorted."""
    lambda_arn = f"arn:{partition(config.region)}:lambda:{config.region}:{account}"
    bucket_arn = f"arn:{partition(config.region)}:s3:::{config.bucket}"
    functions = sorted(function.name for function in config.functions.values())
    layers = sorted(layer.name for layer in config.layers.values())
    statements = [
        _allow(
            "UpdateTheFunctions", FUNCTION_ACTIONS, [f"{lambda_arn}:function:{name}" for name in functions]
        ),
        _allow(
            "PruneFunctionVersions",
            FUNCTION_VERSION_ACTIONS,
            [f"{lambda_arn}:function:{name}:*" for name in functions],
        ),
        _allow("PublishTheLayers", LAYER_ACTIONS, [f"{lambda_arn}:layer:{name}" for name in layers]),
        _allow(
            "ReadTheLayerVersions", LAYER_VERSION_ACTIONS, [f"{lambda_arn}:layer:{name}:*" for name in layers]
        ),
        _allow(
            "WatchTheRolloutAlarms",
            ("cloudwatch:DescribeAlarms",),
            [
                f"arn:{partition(config.region)}:cloudwatch:{config.region}:{account}:alarm:{name}"
                for name in sorted({a for f in config.functions.values() for a in f.alarms})
            ],
        ),
        _allow("FindTheArtifactsBucket", BUCKET_ACTIONS, [bucket_arn]),
        _allow("StoreLargeArtifacts", OBJECT_ACTIONS, [f"{bucket_arn}/{config.prefix}*"]),
        _allow("KeepTheDeployHistory", OBJECT_ACTIONS, [f"{bucket_arn}/{config.history_prefix}*"]),
    ]
    return {"Version": "2012-10-17", "Statement": [s for s in statements if s["Resource"]]}


def _allow(sid: str, actions: tuple[str, ...], resources: list[str]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": resources}
