"""What can go wrong in a deploy. Every message names the thing at fault and what to do next."""


class DeployError(Exception):
    """A deploy that cannot go on. The message is for the person running it."""


class ConfigError(DeployError):
    pass


class ArtifactError(DeployError):
    pass


class PreflightError(DeployError):
    """Refused before any AWS call: too big, too many layers, or not allowed at this target."""


class MissingFunctionError(DeployError):
    pass


class ConcurrentChangeError(DeployError):
    pass


class UploadMismatchError(DeployError):
    """What Lambda received is not the zip that was checked and sent."""


class PlatformMismatchError(DeployError):
    """A function in AWS runs another runtime or architecture than its artifacts were built for."""


class RolloutAborted(DeployError):
    """An alarm fired while traffic was split: the alias went back to the old version."""
