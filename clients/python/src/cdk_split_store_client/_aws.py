"""The AWS side shared by every operation: client configuration and error classification."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.config import Config
from botocore.exceptions import ClientError

from ._limits import LIMITS
from .errors import ConfigurationError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


MAX_REQUEST_TIMEOUT = LIMITS.max_request_timeout_ms / 1000.0
"""Longest per-request timeout, seconds: a commit attempt must end well inside the reconciler's
30 s margin after the writer deadline."""


@dataclass(frozen=True)
class Timeouts:
    """Per-request timeouts, in seconds (botocore's ``connect_timeout`` and ``read_timeout``, the
    latter per socket read). A commit that times out is an ambiguous commit, never a retried one.
    Split reads also bound each part by their ``part_timeout``."""

    dynamodb: float = LIMITS.default_dynamodb_timeout_ms / 1000.0
    s3: float = LIMITS.default_s3_timeout_ms / 1000.0
    connect: float = 3.0

    def __post_init__(self) -> None:
        for name in ("dynamodb", "s3", "connect"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_REQUEST_TIMEOUT:
                raise ConfigurationError(
                    f"Timeouts.{name} must be a number of seconds in (0, {MAX_REQUEST_TIMEOUT:g}], got {value!r}: "
                    "a commit attempt must end well inside the reconciler's 30 s margin after the writer deadline"
                )


COMMIT_RETRIES: Any = {"mode": "standard", "total_max_attempts": 1}
"""The commit client's retry setting: one attempt per call. botocore's ``max_attempts`` counts
retries, not attempts (``max_attempts: 1`` sends up to two requests); ``total_max_attempts``
counts them all."""


def client_config(connect: float, read: float, base: Config | None = None, *, commit: bool = False) -> Config:
    """A botocore config with these timeouts (and, for the commit client, no automatic retry)."""
    config = Config(connect_timeout=connect, read_timeout=read)
    if commit:
        config = config.merge(Config(retries=COMMIT_RETRIES.copy()))
    return config if base is None else base.merge(config)


def check_commit_client(client: DynamoDBClient) -> None:
    """Refuses a commit client that would resend a commit by itself: the protocol must know
    every attempt it sent (docs/PROTOCOL.md, commits)."""
    retries: Any = getattr(client.meta.config, "retries", None) or {}
    if retries.get("total_max_attempts") != 1:
        raise ConfigurationError(
            "commit_client must send each commit once: build it with "
            "botocore.config.Config(retries={'total_max_attempts': 1}) "
            f"(its retries are {retries!r}; note that 'max_attempts': 1 allows one retry)"
        )


def error_code(error: BaseException) -> str:
    """The AWS error code of a botocore ClientError, else the exception's class name."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", "ClientError"))
    return type(error).__name__


def http_status(error: BaseException) -> int | None:
    """The HTTP status of a botocore ClientError, if it has one."""
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return int(status) if status is not None else None
    return None


def is_not_found(error: BaseException) -> bool:
    """True for S3's answers that an object or version does not exist."""
    return error_code(error) in ("NoSuchKey", "NoSuchVersion", "NotFound", "404") or http_status(error) == 404


def describe(error: BaseException) -> str:
    """A short description of an AWS error for logs: code and message."""
    if isinstance(error, ClientError):
        return f"{error_code(error)}: {error.response.get('Error', {}).get('Message', '')}"
    return f"{type(error).__name__}: {error}"
