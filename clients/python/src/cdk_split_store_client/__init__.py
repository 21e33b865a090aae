"""Read and write a cdk-split-store from Python: index rows in DynamoDB, parts in a versioned
S3 bucket, following the split-store protocol (docs/PROTOCOL.md of cdk-split-store)."""

from ._aws import Timeouts
from .client import SplitStoreClient
from .config import IndexConfig, KeyAttribute, StoreConfig
from .errors import (
    CommitOutcomeUnknownError,
    ConfigurationError,
    ConflictError,
    DeadlineExceededError,
    NotFoundError,
    SplitStoreError,
    UnavailableError,
    UnsupportedRowError,
    ValidationError,
)
from .models import (
    IndexEvent,
    IndexRow,
    Item,
    ItemKey,
    KeyValue,
    Page,
    Part,
    PartErrorCode,
    PartErrorEvent,
    PartEvent,
    PartPin,
    PresignedUrl,
    PutResult,
    ReadEvent,
)
from .read import DanglingPointer

__all__ = [
    "CommitOutcomeUnknownError",
    "ConfigurationError",
    "ConflictError",
    "DanglingPointer",
    "DeadlineExceededError",
    "IndexConfig",
    "IndexEvent",
    "IndexRow",
    "Item",
    "ItemKey",
    "KeyAttribute",
    "KeyValue",
    "NotFoundError",
    "Page",
    "Part",
    "PartErrorCode",
    "PartErrorEvent",
    "PartEvent",
    "PartPin",
    "PresignedUrl",
    "PutResult",
    "ReadEvent",
    "SplitStoreClient",
    "SplitStoreError",
    "StoreConfig",
    "Timeouts",
    "UnavailableError",
    "UnsupportedRowError",
    "ValidationError",
]
