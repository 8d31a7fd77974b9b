"""A local emulator of the X Enterprise Engagement API, for tests, the demo and benchmarks.

It shares no code with the tap except the metric names, so it can catch the tap's mistakes.
"""

from tap_twitter_engagement.sandbox.engagement import ApiError, Behaviour
from tap_twitter_engagement.sandbox.model import ExpectedRow, SandboxModel, Tweet, User
from tap_twitter_engagement.sandbox.oauth import Credentials
from tap_twitter_engagement.sandbox.server import (
    FAULT_KINDS,
    Faults,
    LoggedRequest,
    Sandbox,
    running_sandbox,
)
from tap_twitter_engagement.sandbox.tamper import (
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
