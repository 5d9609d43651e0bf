"""Errors a user can cause. Each carries one sentence that names the thing and the problem.

The CLI prints them without a traceback; the dashboard shows them in the page.
"""
from __future__ import annotations


class SSVAEError(Exception):
    """Base class for expected, user-facing errors."""


class DataError(SSVAEError):
    """A data source is missing, malformed or inconsistent."""


class LabelsError(SSVAEError):
    """A labels.csv file is malformed or does not fit the data set."""


class ConfigError(SSVAEError):
    """A configuration file or value is invalid."""


class CheckpointError(SSVAEError):
    """A checkpoint is missing, corrupt, or does not fit the data set or config."""
