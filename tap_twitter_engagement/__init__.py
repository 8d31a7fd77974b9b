"""Singer tap for the X (Twitter) Enterprise Engagement API."""

__version__ = "0.1.0"
