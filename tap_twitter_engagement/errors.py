"""Errors the user can fix by changing a setting.

A dedicated type lets the CLI tell "your configuration is wrong" apart from bugs and API
failures, and carrying the setting's name lets it point at the exact line to change.
"""

from __future__ import annotations


class ConfigError(ValueError):
    """A setting has a value the tap cannot use.

    ``message`` must say both what is wrong and what to do instead. It must never echo a
    credential: the text ends up in logs and CI output.
    """

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(f"{setting}: {message}")
        self.setting = setting
        self.message = message

    def __str__(self) -> str:
        return f"{self.setting}: {self.message}"
