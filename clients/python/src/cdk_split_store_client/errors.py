"""The errors a store operation raises, one class per code of the protocol's error vocabulary.

Every error carries the HTTP ``status`` and the ``code`` that the reference reader answers for
the same outcome, so a service built on this client can map them one to one.

- :class:`ValidationError` (400): bad input, refused before anything was sent.
- :class:`NotFoundError` (404): the item (or the part) does not exist.
- :class:`ConflictError` (409): the item is not in the state the write required; nothing was
  committed and none of the write's part versions is left current.
- :class:`UnavailableError` (503): a dependency failed; retry. Its subclasses say more:
  :class:`DeadlineExceededError` (the writer gave up before committing) and
  :class:`CommitOutcomeUnknownError` (the commit may or may not have landed: re-read the item).
- :class:`UnsupportedRowError` (500): the row was written by a protocol version this client
  does not read; nothing was written.
"""

from __future__ import annotations

from typing import ClassVar


class SplitStoreError(Exception):
    """Base class of every error a store operation raises."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "InternalError"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def retryable(self) -> bool:
        """True when the same request may succeed if sent again."""
        return self.status == 503


class ValidationError(SplitStoreError):
    """Bad input (400). Nothing was sent to AWS."""

    status = 400
    code = "ValidationError"


class NotFoundError(SplitStoreError):
    """The item does not exist (404)."""

    status = 404
    code = "NotFound"


class ConflictError(SplitStoreError):
    """The item is not in the state the write required (409). Nothing was committed."""

    status = 409
    code = "Conflict"


class UnavailableError(SplitStoreError):
    """DynamoDB or S3 failed (503); retry the request."""

    status = 503
    code = "Unavailable"


class DeadlineExceededError(UnavailableError):
    """The writer ran past its deadline and did not commit (503); retry."""

    code = "DeadlineExceeded"


class CommitOutcomeUnknownError(UnavailableError):
    """The commit may or may not have landed (503).

    The store is consistent either way: read the item to see which, then retry if needed.
    """

    code = "CommitOutcomeUnknown"


class UnsupportedRowError(SplitStoreError):
    """The row was written by a protocol version this client cannot read, or is corrupt (500)."""

    status = 500
    code = "UnsupportedRow"


class ConfigurationError(ValueError):
    """The store's configuration (environment variables or constructor arguments) is invalid."""
