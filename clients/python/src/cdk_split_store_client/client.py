"""``SplitStoreClient``: every operation of the split-store protocol behind one object."""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from . import listing
from ._aws import Timeouts, check_commit_client, client_config, error_code
from ._limits import LIMITS
from .codec import Item as DynamoDBItem
from .codec import LiveRow, decode_state, marshal_key
from .commit import Writer
from .config import StoreConfig
from .errors import ConfigurationError, NotFoundError, UnavailableError, UnsupportedRowError, ValidationError
from .keys import part_key, validate_key, validate_part_name
from .models import (
    IndexEvent,
    IndexRow,
    Item,
    ItemKey,
    KeyValue,
    Page,
    Part,
    PartErrorEvent,
    PartEvent,
    PresignedUrl,
    PutResult,
    ReadEvent,
)
from .read import DanglingPointer, SplitRead
from .write import check_revision, delete_spec, put_spec, update_parts_spec

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client

logger = logging.getLogger("cdk_split_store_client")


class SplitStoreClient:
    """Reads and writes one split store: index rows in DynamoDB, parts in a versioned S3 bucket.

    Build it once (at module scope in a Lambda function) and share it between threads::

        store = SplitStoreClient.from_environment()

    The boto3 clients are built once, from ``boto3_session`` (default: a new session) with
    ``boto_config`` merged under the client's timeouts, unless you pass your own. Pass your own
    ``dynamodb_client`` only together with a ``commit_client``: a DynamoDB client that sends
    each request once (``Config(retries={"total_max_attempts": 1})``), because the protocol
    retries commits itself and must know every attempt it sent.
    """

    def __init__(
        self,
        config: StoreConfig,
        *,
        boto3_session: boto3.session.Session | None = None,
        boto_config: Config | None = None,
        timeouts: Timeouts | None = None,
        s3_client: S3Client | None = None,
        dynamodb_client: DynamoDBClient | None = None,
        commit_client: DynamoDBClient | None = None,
        on_dangling_pointer: Callable[[DanglingPointer], None] | None = None,
    ) -> None:
        self.config = config
        self.timeouts = timeouts or Timeouts()
        if dynamodb_client is not None and commit_client is None:
            raise ConfigurationError(
                "commit_client is required with dynamodb_client: pass a DynamoDB client built with "
                "botocore.config.Config(retries={'total_max_attempts': 1}), or pass neither"
            )
        if s3_client is None or dynamodb_client is None or commit_client is None:
            session = boto3_session or boto3.session.Session()
            connect, dynamodb_timeout = self.timeouts.connect, self.timeouts.dynamodb
            if s3_client is None:
                s3_config = client_config(connect, self.timeouts.s3, boto_config).merge(Config(signature_version="s3v4"))
                s3_client = session.client("s3", config=s3_config)
            if dynamodb_client is None:
                dynamodb_client = session.client("dynamodb", config=client_config(connect, dynamodb_timeout, boto_config))
            if commit_client is None:
                commit_config = client_config(connect, dynamodb_timeout, boto_config, commit=True)
                commit_client = session.client("dynamodb", config=commit_config)
        check_commit_client(commit_client)
        self._s3 = s3_client
        self._dynamodb = dynamodb_client
        self._writer = Writer(config, s3=s3_client, dynamodb=dynamodb_client, commit=commit_client)
        self._on_dangling_pointer = on_dangling_pointer
        self._lock = threading.Lock()
        self.dangling_pointers = 0
        """Dangling pointers found by reads of this client since it was built."""

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None, **kwargs: Any) -> SplitStoreClient:
        """A client for the store described by the ``SPLIT_STORE_*`` environment variables
        (set by ``SplitStore.grantAndConfigure(fn)``); ``kwargs`` go to the constructor."""
        return cls(StoreConfig.from_environment(environ), **kwargs)

    # ------------------------------------------------------------------------------ reads

    def get_index(self, key: ItemKey) -> IndexRow:
        """The index row only (a consistent read). Raises :class:`NotFoundError`."""
        normalized = validate_key(self.config, key)
        row = self._read_row(normalized, "GetItem")
        if row is None:
            raise NotFoundError(f"item {normalized!r} does not exist")
        return row

    def get(self, key: ItemKey, *, parts: Sequence[str] | None = None, part_timeout: float | None = None) -> Iterator[ReadEvent]:
        """A split read: an iterator of events, the :class:`IndexEvent` first, then a
        :class:`PartEvent` (or :class:`PartErrorEvent`) for each part in the order S3 answers.

        ``parts`` names the parts to read; their S3 requests go out *before* the DynamoDB read,
        so the S3 latency overlaps it. ``None`` reads every part the row pins (their requests
        start once the row has arrived); ``[]`` reads the row only. ``part_timeout`` (seconds,
        default 10) bounds each part from its first request.

        The key and parts are checked at once (:class:`ValidationError`); AWS is called when
        iteration starts. :class:`NotFoundError` and :class:`UnavailableError` (DynamoDB failed)
        are raised from the first ``next()``, before any event.
        """
        normalized = validate_key(self.config, key)
        if parts is not None:
            if isinstance(parts, str) or not isinstance(parts, Sequence):
                raise ValidationError("parts must be a list of part names")
            if len(set(parts)) > LIMITS.max_parts_per_read:
                raise ValidationError(
                    f"a read names {len(set(parts))} parts, over the limit of {LIMITS.max_parts_per_read} per read: "
                    "read the item in several requests"
                )
            for name in parts:
                part_key(self.config, normalized, name)  # the name, and the length of its S3 key
        timeout_ms = LIMITS.default_part_timeout_ms if part_timeout is None else _milliseconds(part_timeout)
        if not 0 < timeout_ms <= LIMITS.max_part_timeout_ms:
            raise ValidationError(
                f"part_timeout must be a number of seconds in (0, {LIMITS.max_part_timeout_ms / 1000:g}], got {part_timeout!r}"
            )
        return iter(
            SplitRead(
                s3=self._s3,
                bucket=self.config.bucket_name,
                key=normalized,
                part_keys=lambda name: part_key(self.config, normalized, name),
                parts=parts,
                part_timeout=timeout_ms / 1000.0,
                read_row=lambda: self._read_row(normalized, "GetItem"),
                on_dangling_pointer=self._dangling_pointer,
            )
        )

    def get_item(self, key: ItemKey, *, parts: Sequence[str] | None = None, part_timeout: float | None = None) -> Item:
        """A whole item: :meth:`get` run to the end, parts and part errors by name."""
        row: IndexRow | None = None
        served: dict[str, PartEvent] = {}
        errors: dict[str, PartErrorEvent] = {}
        for event in self.get(key, parts=parts, part_timeout=part_timeout):
            if isinstance(event, IndexEvent):
                row = event.row
            elif isinstance(event, PartEvent):
                served[event.name] = event
            else:
                errors[event.name] = event
        assert row is not None  # the first event of a read that did not raise
        return Item(row=row, parts=served, errors=errors)

    def presign(self, key: ItemKey, part: str, *, expires_in: int | None = None) -> PresignedUrl:
        """A GET URL of one part, pinned to the version the row pins now (docs/PROTOCOL.md
        section 8): it serves exactly that version, whatever writers do afterwards."""
        lifetime = LIMITS.default_presign_expires_seconds if expires_in is None else expires_in
        if isinstance(lifetime, bool) or not isinstance(lifetime, int) or not 1 <= lifetime <= LIMITS.max_presign_expires_seconds:
            raise ValidationError(
                f"expires_in must be a whole number of seconds from 1 to {LIMITS.max_presign_expires_seconds}, got {expires_in!r}"
            )
        validate_part_name(part)
        row = self.get_index(key)
        pin = row.parts.get(part)
        if pin is None:
            raise NotFoundError(f'item {row.key!r} has no part "{part}"')
        url = self._s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.config.bucket_name, "Key": part_key(self.config, row.key, part), "VersionId": pin.version_id},
            ExpiresIn=lifetime,
        )
        return PresignedUrl(url=url, version_id=pin.version_id, expires_in=lifetime)

    def list_page(
        self,
        *,
        partition_value: KeyValue | None = None,
        index: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        ascending: bool = True,
    ) -> Page:
        """One page of index rows, from DynamoDB only (never S3): a ``Query`` of
        ``partition_value`` or, without it, a ``Scan``; of the table or of the secondary index
        ``index``. Pass the page's ``cursor`` back for the next page (None on the last)."""
        request = listing.ListRequest.build(self.config, partition_value, index, limit, cursor, ascending)
        return listing.fetch_page(self._dynamodb, self.config, request, cursor)

    def list(
        self,
        *,
        partition_value: KeyValue | None = None,
        index: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        ascending: bool = True,
    ) -> Iterator[Page]:
        """Every page from ``cursor`` (or the start) on, each of at most ``limit`` rows, as
        :meth:`list_page` fetches them; stop iterating to stop fetching."""
        request = listing.ListRequest.build(self.config, partition_value, index, limit, cursor, ascending)
        return listing.pages(self._dynamodb, self.config, request, cursor)

    # ------------------------------------------------------------------------------ writes

    def put(
        self,
        key: ItemKey,
        *,
        attributes: Mapping[str, Any] | None = None,
        parts: Mapping[str, Part] | None = None,
        expected_revision: int | None = None,
        create: bool = False,
    ) -> PutResult:
        """Writes a whole item: exactly these attributes and parts (parts the previous row pinned
        and that are not named are retired).

        ``create=True`` commits only if the item does not exist; ``expected_revision`` only if
        the item is at that revision; with neither the put is unconditional (last writer wins),
        and starts again from its read, a few times, when another writer commits in between.

        Raises :class:`ConflictError` (nothing committed, none of its versions left current),
        :class:`CommitOutcomeUnknownError` (re-read the item: the store is consistent either
        way), :class:`UnavailableError`, :class:`ValidationError` (nothing sent).
        """
        normalized = validate_key(self.config, key)
        if not isinstance(create, bool):
            raise ValidationError(f"create must be a boolean, got {create!r}")
        spec = put_spec(self.config, normalized, attributes or {}, parts or {}, check_revision(expected_revision), create)
        landed = self._writer.run(spec)
        row = self._committed(landed.item)
        return PutResult(row.key, row.attributes, row.revision, row.parts, created=not isinstance(landed.state, LiveRow))

    def create(
        self, key: ItemKey, *, attributes: Mapping[str, Any] | None = None, parts: Mapping[str, Part] | None = None
    ) -> PutResult:
        """Creates an item: :meth:`put` with ``create=True`` (a :class:`ConflictError` if it exists)."""
        return self.put(key, attributes=attributes, parts=parts, create=True)

    def update_parts(
        self,
        key: ItemKey,
        *,
        parts: Mapping[str, Part] | None = None,
        remove_parts: Sequence[str] = (),
        attributes: Mapping[str, Any] | None = None,
        expected_revision: int | None = None,
    ) -> IndexRow:
        """Writes some parts, removes others and merges attributes into an existing item,
        keeping the pins of the parts it does not name. Commits only if the item is still in the
        state it read (and at ``expected_revision`` if given): a concurrent writer makes it a
        :class:`ConflictError`, never a lost update. :class:`NotFoundError` if it does not exist."""
        normalized = validate_key(self.config, key)
        spec = update_parts_spec(
            self.config, normalized, parts or {}, remove_parts, attributes or {}, check_revision(expected_revision)
        )
        return self._committed(self._writer.run(spec).item)

    def delete(self, key: ItemKey, *, expected_revision: int | None = None) -> IndexRow:
        """Deletes an item and returns the deleted row. Its row becomes a tombstone (so its
        revisions go on if it is created again) and its parts get delete markers (the pinned
        versions stay for the retention window). :class:`NotFoundError` if it does not exist,
        :class:`ConflictError` if it is not at ``expected_revision``."""
        normalized = validate_key(self.config, key)
        landed = self._writer.run(delete_spec(self.config, normalized, check_revision(expected_revision)))
        assert isinstance(landed.state, LiveRow)  # the delete's precondition
        return landed.state.row

    # ------------------------------------------------------------------------------ helpers

    def _committed(self, item: DynamoDBItem) -> IndexRow:
        state = decode_state(self.config, item)
        if not isinstance(state, LiveRow):
            raise UnsupportedRowError("the committed row is not a live row")
        return state.row

    def _dangling_pointer(self, pointer: DanglingPointer) -> None:
        with self._lock:
            self.dangling_pointers += 1
        logger.warning("dangling pointer: item %r part %r pins version %s, which S3 no longer has", pointer.key, pointer.part, pointer.version_id)
        if self._on_dangling_pointer is not None:
            try:
                self._on_dangling_pointer(pointer)
            except Exception:
                logger.exception("on_dangling_pointer callback failed")

    def _read_row(self, key: Mapping[str, KeyValue], operation: str) -> IndexRow | None:
        """Consistent GetItem, decoded; None when the item does not exist (no row, or a tombstone)."""
        try:
            out = self._dynamodb.get_item(
                TableName=self.config.table_name, Key=marshal_key(self.config, key), ConsistentRead=True
            )
        except Exception as e:
            raise UnavailableError(f"DynamoDB {operation} failed ({error_code(e)}); retry the request") from e
        item: Any = out.get("Item")
        state = decode_state(self.config, item)
        return state.row if isinstance(state, LiveRow) else None


def _milliseconds(seconds: object) -> float:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
        return math.nan
    return float(seconds) * 1000.0

