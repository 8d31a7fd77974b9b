"""A local emulator of the X Enterprise Engagement API, for tests, the demo and benchmarks.

It shares no code with the tap except the metric names, so it can catch the tap's mistakes.
"""

from twitter_engagement_sandbox.engagement import ApiError, Behaviour
from twitter_engagement_sandbox.model import ExpectedRow, SandboxModel, Tweet, User
from twitter_engagement_sandbox.oauth import Credentials
from twitter_engagement_sandbox.server import (
    FAULT_KINDS,
    Faults,
    LoggedRequest,
    Sandbox,
    running_sandbox,
)
from twitter_engagement_sandbox.tamper import (
    TAMPER_KINDS,
    Raw,
    TamperError,
    TamperRequest,
)

__all__ = [
    "FAULT_KINDS",
    "TAMPER_KINDS",
    "ApiError",
    "Behaviour",
    "Credentials",
    "ExpectedRow",
    "Faults",
    "LoggedRequest",
    "Raw",
    "Sandbox",
    "SandboxModel",
    "TamperError",
    "TamperRequest",
    "Tweet",
    "User",
    "running_sandbox",
]
