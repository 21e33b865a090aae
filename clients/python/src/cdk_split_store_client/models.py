"""The shapes an application sees: rows, pins, parts to write, read events, pages."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Union

KeyValue = Union[str, int, float]
"""A key attribute value: store keys are strings (``S``) or numbers (``N``) only."""

ItemKey = Mapping[str, KeyValue]
"""An item key: the partition key attribute, and the sort key attribute if the table has one."""


@dataclass(frozen=True)
class PartPin:
    """The S3 object version an index row points at for one part. Reads are pinned to it."""

    version_id: str
    """S3 ``VersionId``."""
    etag: str
    """S3 ``ETag`` of that version, quoted as S3 returns it."""
    size: int
    """Size of the body in bytes."""
    content_type: str
    """Content type the part was written with."""


@dataclass(frozen=True)
class IndexRow:
    """An index row: the item's key, its attributes and the pins of its parts."""

    key: dict[str, KeyValue]
    """The item key."""
    attributes: dict[str, Any]
    """The application's attributes, key attributes included, reserved attributes left out.
    Integral numbers are ``int``, other numbers ``decimal.Decimal``, binary values ``bytes``."""
    revision: int
    """Revision of the item: 1 after its first create, +1 with every committed write. It never
    repeats: a delete leaves a tombstone, so an item deleted at revision 4 and created again is at
    revision 6, and an ``expected_revision`` from before the delete cannot match it."""
    parts: dict[str, PartPin] = field(default_factory=dict)
    """Part name to pin."""


@dataclass(frozen=True)
class PutResult(IndexRow):
    """The row a put committed."""

    created: bool = False
    """True when the item did not exist before this put (never did, or was deleted)."""


@dataclass(frozen=True)
class Part:
    """A part to write.

    A ``str`` body is stored as UTF-8; without ``content_type`` it is ``application/json``
    (a ``bytes`` body: ``application/octet-stream``), as in every client of the protocol.
    """

    body: bytes | str
    content_type: str | None = None

    @classmethod
    def json(cls, value: Any) -> Part:
        """A JSON part: ``value`` serialized compactly, stored as ``application/json``."""
        return cls(json.dumps(value, separators=(",", ":"), ensure_ascii=False), "application/json")

    @classmethod
    def text(cls, text: str, content_type: str = "text/plain; charset=utf-8") -> Part:
        """A text part, stored as UTF-8."""
        return cls(text, content_type)

    @property
    def data(self) -> bytes:
        """The body as bytes."""
        return self.body.encode("utf-8") if isinstance(self.body, str) else self.body

    @property
    def resolved_content_type(self) -> str:
        """The content type the part is stored with."""
        if self.content_type is not None:
            return self.content_type
        return "application/json" if isinstance(self.body, str) else "application/octet-stream"


PartErrorCode = Literal["DanglingPointer", "NotPinned", "S3Error", "Timeout"]
"""Why one part of a split read could not be served (the other parts still are)."""


@dataclass(frozen=True)
class IndexEvent:
    """The index row of a split read; always the first event."""

    row: IndexRow
    at_ms: float
    """Milliseconds since the read started."""


@dataclass(frozen=True)
class PartEvent:
    """One part of a split read, at the version the row pins."""

    name: str
    content_type: str
    body: bytes
    version_id: str
    refetched: bool
    """True when another version was current and the pinned one was fetched by its id."""
    at_ms: float

    def text(self) -> str:
        """The body decoded as UTF-8."""
        return self.body.decode("utf-8")

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


@dataclass(frozen=True)
class PartErrorEvent:
    """A part of a split read that could not be served."""

    name: str
    code: PartErrorCode
    message: str
    at_ms: float


ReadEvent = Union[IndexEvent, PartEvent, PartErrorEvent]
"""An event of a split read: the row first, then each part (or its error) as it arrives."""


@dataclass(frozen=True)
class Item:
    """A whole item: its row and every part that was read (or the error of each that was not)."""

    row: IndexRow
    parts: dict[str, PartEvent]
    errors: dict[str, PartErrorEvent]


@dataclass(frozen=True)
class Page:
    """One page of a list: index rows only, and the cursor of the next page (None on the last)."""

    items: list[IndexRow]
    cursor: str | None


@dataclass(frozen=True)
class PresignedUrl:
    """A GET URL of one part, pinned to the version the row pins."""

    url: str
    version_id: str
    expires_in: int
    """Lifetime of the URL in seconds."""
