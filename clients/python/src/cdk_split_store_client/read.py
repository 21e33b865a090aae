"""The split read (docs/PROTOCOL.md section 5).

The S3 requests of the named parts go out first, on a thread pool; then the consistent
``GetItem``. The row is yielded the moment it arrives; then each part, in the order S3 answers,
served only at the version the row pins (I1, no torn read). One failing part never fails the
others; a DynamoDB failure fails the read.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._aws import error_code, is_not_found
from ._limits import LIMITS
from .errors import NotFoundError
from .models import IndexEvent, IndexRow, PartErrorCode, PartErrorEvent, PartEvent, PartPin, ReadEvent

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

logger = logging.getLogger("cdk_split_store_client")

PartResult = PartEvent | PartErrorEvent


@dataclass(frozen=True)
class DanglingPointer:
    """A row pins a version S3 no longer has."""

    key: dict[str, Any]
    part: str
    version_id: str


class _Pin:
    """Hands the pin (or the news that there is none) from the reading thread to a part's worker."""

    def __init__(self) -> None:
        self._ready = threading.Event()
        self._pin: PartPin | None = None

    def set(self, pin: PartPin | None) -> None:
        self._pin = pin
        self._ready.set()

    def wait(self) -> PartPin | None:
        self._ready.wait()
        return self._pin


def _close(response: Any) -> None:
    body = response.get("Body") if isinstance(response, dict) else None
    if body is not None:
        try:
            body.close()
        except Exception:  # noqa: BLE001 - best effort: the response is dropped either way
            pass


def _strip_etag(etag: str) -> str:
    if etag.startswith("W/"):
        etag = etag[2:]
    return etag.strip('"')


class SplitRead:
    """One split read; iterate it once (see :meth:`SplitStoreClient.get`)."""

    def __init__(
        self,
        *,
        s3: S3Client,
        bucket: str,
        key: dict[str, Any],
        part_keys: Callable[[str], str],
        parts: Sequence[str] | None,
        part_timeout: float,
        read_row: Callable[[], IndexRow | None],
        on_dangling_pointer: Callable[[DanglingPointer], None],
    ) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._key = key
        self._part_keys = part_keys
        self._parts = parts
        self._part_timeout = part_timeout
        self._read_row = read_row
        self._on_dangling_pointer = on_dangling_pointer
        self._t0 = 0.0

    def _at(self) -> float:
        return (time.monotonic() - self._t0) * 1000.0

    def _error(self, name: str, code: PartErrorCode, message: str) -> PartErrorEvent:
        return PartErrorEvent(name=name, code=code, message=message, at_ms=self._at())

    def _fetch(self, name: str, pin_box: _Pin, started: threading.Event | None, done: threading.Event) -> PartResult | None:
        """A part's worker: the current version (for a named part), then the pinned one if the
        current one is not it. Never raises; None when the read no longer wants the part."""
        current: Any = None
        try:
            s3_key = self._part_keys(name)
        except Exception as e:  # noqa: BLE001 - a pinned name whose key S3 cannot hold fails alone
            if started is not None:
                started.set()
            return self._error(name, "S3Error", f'part "{name}": {e}')
        if started is not None:
            started.set()
            try:
                current = self._s3.get_object(Bucket=self._bucket, Key=s3_key)
            except Exception:  # noqa: BLE001 - any failure of the current version: go to the pin
                current = None
        pin = pin_box.wait()
        if pin is None or done.is_set():
            _close(current)
            return None
        try:
            refetched = started is not None
            if current is not None and current.get("VersionId") == pin.version_id:
                response = current
                refetched = False
            else:
                _close(current)
                try:
                    response = self._s3.get_object(Bucket=self._bucket, Key=s3_key, VersionId=pin.version_id)
                except Exception as e:
                    if is_not_found(e):
                        return self._error(
                            name,
                            "DanglingPointer",
                            f'part "{name}" pins version {pin.version_id}, which S3 no longer has ({error_code(e)})',
                        )
                    raise
            if done.is_set():
                _close(response)
                return None
            body = response["Body"].read()
        except Exception as e:  # noqa: BLE001 - one failing part never fails the others
            return self._error(name, "S3Error", f'part "{name}": S3 GetObject failed ({error_code(e)})')
        if len(body) != pin.size:
            return self._error(name, "S3Error", f'part "{name}" version {pin.version_id} is {len(body)} bytes, the pin says {pin.size}')
        etag = response.get("ETag")
        if etag and pin.etag and _strip_etag(etag) != _strip_etag(pin.etag):
            return self._error(name, "S3Error", f'part "{name}" version {pin.version_id} has ETag {etag}, the pin says {pin.etag}')
        return PartEvent(
            name=name,
            content_type=pin.content_type,
            body=body,
            version_id=pin.version_id,
            refetched=refetched,
            at_ms=self._at(),
        )

    def __iter__(self) -> Iterator[ReadEvent]:
        self._t0 = time.monotonic()
        requested = list(dict.fromkeys(self._parts)) if self._parts is not None else None
        done = threading.Event()
        boxes: dict[str, _Pin] = {}
        futures: dict[Future[PartResult | None], str] = {}
        deadlines: dict[str, float] = {}
        executor: ThreadPoolExecutor | None = None
        try:
            # 1. S3 first: the current version of every named part, at its derived key.
            if requested:
                executor = ThreadPoolExecutor(max_workers=len(requested), thread_name_prefix="split-store-read")
                started: list[threading.Event] = []
                for name in requested:
                    boxes[name] = _Pin()
                    started.append(threading.Event())
                    futures[executor.submit(self._fetch, name, boxes[name], started[-1], done)] = name
                    deadlines[name] = time.monotonic() + self._part_timeout
                for event in started:
                    event.wait()

            # 2. Then the row (a DynamoDB failure raises UnavailableError from here).
            row = self._read_row()
            if row is None:
                raise NotFoundError(f"item {self._key!r} does not exist")

            # 3. The row goes out at once.
            yield IndexEvent(row=row, at_ms=self._at())

            # 4. Each part at its pinned version, as it resolves.
            if requested is None:
                # The pins are known now: fetch each pinned version directly.
                # A row can pin more parts than one read may name (updates add up): the pool is capped.
                workers = max(1, min(len(row.parts), LIMITS.max_parts_per_read))
                executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="split-store-read")
                for name, pin in row.parts.items():
                    boxes[name] = _Pin()
                    boxes[name].set(pin)
                    futures[executor.submit(self._fetch, name, boxes[name], None, done)] = name
                    deadlines[name] = time.monotonic() + self._part_timeout
            else:
                for name in requested:
                    boxes[name].set(row.parts.get(name))
                    if name not in row.parts:
                        yield self._error(name, "NotPinned", f'item {self._key!r} has no part "{name}" at revision {row.revision}')
                futures = {f: n for f, n in futures.items() if row.parts.get(n) is not None}
            yield from self._collect(futures, deadlines, row)
        finally:
            done.set()
            for box in boxes.values():
                box.set(None)  # releases workers still waiting for a pin
            if executor is not None:
                executor.shutdown(wait=False, cancel_futures=True)

    def _collect(
        self, futures: dict[Future[PartResult | None], str], deadlines: dict[str, float], row: IndexRow
    ) -> Iterator[PartResult]:
        pending = set(futures)
        while pending:
            remaining = min(deadlines[futures[f]] for f in pending) - time.monotonic()
            finished, pending = wait(pending, timeout=max(0.0, remaining), return_when=FIRST_COMPLETED)
            for future in finished:
                result = future.result()
                if result is None:
                    continue
                if isinstance(result, PartErrorEvent) and result.code == "DanglingPointer":
                    self._on_dangling_pointer(DanglingPointer(self._key, result.name, row.parts[result.name].version_id))
                yield result
            now = time.monotonic()
            for future in [f for f in pending if deadlines[futures[f]] <= now]:
                pending.discard(future)
                name = futures[future]
                yield self._error(name, "Timeout", f'part "{name}" did not arrive within {self._part_timeout:g} s')
