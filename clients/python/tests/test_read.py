"""Split reads, index reads and presigned URLs (docs/PROTOCOL.md sections 5 and 8)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests

from cdk_split_store_client import (
    DanglingPointer,
    IndexEvent,
    NotFoundError,
    PartErrorEvent,
    PartEvent,
    SplitStoreClient,
    UnavailableError,
    UnsupportedRowError,
    ValidationError,
)
from cdk_split_store_client.keys import part_key

from .conftest import INVOICES, SESSION, create_store, shared_client
from .fakes import Recorder, client_error, commit_client
from .seed import put_v1_row, put_version, seed_item

KEY = {"id": "INV-1"}
SUMMARY = b'{"total":42}'
LINES = b'[{"sku":"A","qty":2}]'


def recorded_store(log: list[tuple[str, dict[str, Any]]]) -> tuple[SplitStoreClient, Recorder, Recorder]:
    s3 = Recorder(shared_client("s3"), log)
    dynamodb = Recorder(shared_client("dynamodb"), log)
    client = SplitStoreClient(INVOICES, s3_client=s3, dynamodb_client=dynamodb, commit_client=commit_client())  # type: ignore[arg-type]
    return client, s3, dynamodb


def test_split_read_yields_the_row_first_then_each_part(store: SplitStoreClient) -> None:
    # GIVEN
    pins = seed_item(INVOICES, KEY, {"customer": "c-17", "total": 42}, {"summary": SUMMARY, "lines": LINES}, revision=3)
    # WHEN
    events = list(store.get(KEY, parts=["summary", "lines"]))
    # THEN
    assert isinstance(events[0], IndexEvent)
    assert events[0].row.key == KEY
    assert events[0].row.revision == 3
    assert events[0].row.attributes == {"id": "INV-1", "customer": "c-17", "total": 42}
    assert events[0].row.parts == pins
    parts = {e.name: e for e in events[1:] if not isinstance(e, IndexEvent)}
    assert set(parts) == {"summary", "lines"}
    assert all(isinstance(e, PartEvent) for e in parts.values())
    summary = parts["summary"]
    assert isinstance(summary, PartEvent)
    assert summary.body == SUMMARY and summary.json() == {"total": 42}
    assert summary.version_id == pins["summary"].version_id
    assert summary.content_type == "application/json"
    assert summary.refetched is False


def test_s3_requests_go_out_before_the_row_is_read_and_the_row_does_not_wait_for_them(aws: None) -> None:
    # GIVEN S3 answers that are held back until the row has been yielded
    create_store(INVOICES)
    seed_item(INVOICES, KEY, {}, {"summary": SUMMARY, "lines": LINES})
    log: list[tuple[str, dict[str, Any]]] = []
    client, s3, _ = recorded_store(log)
    row_yielded = threading.Event()
    held_until_row: list[bool] = []

    def hold(params: dict[str, Any]) -> None:
        if "VersionId" not in params:
            # A hang guard only: a client that waited for S3 before reading the row never yields it.
            held_until_row.append(row_yielded.wait(timeout=30))

    s3.before["GetObject"] = hold
    # WHEN
    events = client.get(KEY, parts=["summary", "lines"])
    first = next(events)
    row_yielded.set()
    rest = list(events)
    # THEN
    assert isinstance(first, IndexEvent)
    operations = [name for name, _ in log]
    assert operations[:3] == ["GetObject", "GetObject", "GetItem"]
    assert held_until_row == [True, True]
    assert sorted(e.name for e in rest if isinstance(e, PartEvent)) == ["lines", "summary"]


def test_a_current_version_other_than_the_pin_is_not_served(store: SplitStoreClient) -> None:
    # GIVEN a writer in flight (or crashed) put a version above the pinned one
    pins = seed_item(INVOICES, KEY, {}, {"summary": SUMMARY})
    put_version(INVOICES, KEY, "summary", b'{"total":99}')
    # WHEN
    item = store.get_item(KEY, parts=["summary"])
    # THEN the pinned version, fetched by its id
    assert item.parts["summary"].body == SUMMARY
    assert item.parts["summary"].version_id == pins["summary"].version_id
    assert item.parts["summary"].refetched is True


def test_a_delete_marker_above_the_pin_is_not_served(store: SplitStoreClient) -> None:
    seed_item(INVOICES, KEY, {}, {"summary": SUMMARY})
    shared_client("s3").delete_object(Bucket=INVOICES.bucket_name, Key=part_key(INVOICES, KEY, "summary"))
    item = store.get_item(KEY, parts=["summary"])
    assert item.parts["summary"].body == SUMMARY
    assert item.parts["summary"].refetched is True


def test_a_dangling_pointer_fails_that_part_only_and_is_counted(aws: None) -> None:
    # GIVEN the pinned version of "lines" is gone
    create_store(INVOICES)
    found: list[DanglingPointer] = []
    client = SplitStoreClient(INVOICES, boto3_session=SESSION, on_dangling_pointer=found.append)
    pins = seed_item(INVOICES, KEY, {}, {"summary": SUMMARY, "lines": LINES})
    shared_client("s3").delete_object(
        Bucket=INVOICES.bucket_name, Key=part_key(INVOICES, KEY, "lines"), VersionId=pins["lines"].version_id
    )
    # WHEN
    item = client.get_item(KEY)
    # THEN
    assert item.parts["summary"].body == SUMMARY
    assert item.errors["lines"].code == "DanglingPointer"
    assert client.dangling_pointers == 1
    assert found == [DanglingPointer(KEY, "lines", pins["lines"].version_id)]


def test_a_part_the_row_does_not_pin_is_not_pinned(store: SplitStoreClient) -> None:
    seed_item(INVOICES, KEY, {}, {"summary": SUMMARY})
    put_version(INVOICES, KEY, "notes", b"never committed")
    item = store.get_item(KEY, parts=["summary", "notes"])
    assert item.parts["summary"].body == SUMMARY
    assert item.errors["notes"].code == "NotPinned"


def test_without_parts_every_pinned_part_is_read_after_the_row(aws: None) -> None:
    create_store(INVOICES)
    seed_item(INVOICES, KEY, {}, {"summary": SUMMARY, "lines": LINES})
    log: list[tuple[str, dict[str, Any]]] = []
    client, _, _ = recorded_store(log)
    item = client.get_item(KEY)
    assert {n: p.body for n, p in item.parts.items()} == {"summary": SUMMARY, "lines": LINES}
    assert [name for name, _ in log][0] == "GetItem"
    assert all("VersionId" in params for name, params in log if name == "GetObject")
    assert not any(p.refetched for p in item.parts.values())


def test_an_empty_parts_list_reads_the_row_only(aws: None) -> None:
    create_store(INVOICES)
    seed_item(INVOICES, KEY, {}, {"summary": SUMMARY})
    log: list[tuple[str, dict[str, Any]]] = []
    client, _, _ = recorded_store(log)
    events = list(client.get(KEY, parts=[]))
    assert len(events) == 1 and isinstance(events[0], IndexEvent)
    assert [name for name, _ in log] == ["GetItem"]


def test_a_missing_item_raises_not_found_before_any_event(store: SplitStoreClient) -> None:
    events = store.get({"id": "nope"}, parts=["summary"])
    with pytest.raises(NotFoundError):
        next(events)
    with pytest.raises(NotFoundError):
        store.get_index({"id": "nope"})


def test_a_dynamodb_failure_fails_the_read_as_unavailable(aws: None) -> None:
    create_store(INVOICES)
    seed_item(INVOICES, KEY, {}, {"summary": SUMMARY})
    client, _, dynamodb = recorded_store([])

    def fail(params: dict[str, Any]) -> None:
        raise client_error("InternalServerError", 500, "GetItem")

    dynamodb.before["GetItem"] = fail
    with pytest.raises(UnavailableError) as raised:
        list(client.get(KEY, parts=["summary"]))
    assert raised.value.code == "Unavailable" and raised.value.status == 503 and raised.value.retryable
    assert "InternalServerError" in str(raised.value)


def test_an_s3_failure_fails_that_part_only(aws: None) -> None:
    create_store(INVOICES)
    seed_item(INVOICES, KEY, {}, {"summary": SUMMARY, "lines": LINES})
    client, s3, _ = recorded_store([])

    def fail_lines(params: dict[str, Any]) -> None:
        if params["Key"].endswith("/lines"):
            raise client_error("AccessDenied", 403, "GetObject")

    s3.before["GetObject"] = fail_lines
    item = client.get_item(KEY, parts=["summary", "lines"])
    assert item.parts["summary"].body == SUMMARY
    assert item.errors["lines"].code == "S3Error"
    assert "AccessDenied" in item.errors["lines"].message


def test_a_part_that_does_not_arrive_in_time_is_a_timeout(aws: None) -> None:
    # GIVEN an S3 that never answers for this part (until the test ends)
    create_store(INVOICES)
    seed_item(INVOICES, KEY, {}, {"lines": LINES})
    client, s3, _ = recorded_store([])
    never = threading.Event()
    s3.before["GetObject"] = lambda params: never.wait(timeout=60) and None
    # WHEN
    try:
        events = list(client.get(KEY, parts=["lines"], part_timeout=0.05))
    finally:
        never.set()
    # THEN the row, then the part's timeout
    assert isinstance(events[0], IndexEvent)
    assert [(e.name, e.code) for e in events[1:] if isinstance(e, PartErrorEvent)] == [("lines", "Timeout")]
    assert len(events) == 2


def test_a_body_that_does_not_match_its_pin_is_refused(store: SplitStoreClient) -> None:
    pins = seed_item(INVOICES, KEY, {}, {"summary": SUMMARY})
    wrong = pins["summary"].__class__(pins["summary"].version_id, pins["summary"].etag, pins["summary"].size + 1, "application/json")
    put_v1_row(INVOICES, KEY, {}, 2, {"summary": wrong})
    item = store.get_item(KEY, parts=["summary"])
    assert item.errors["summary"].code == "S3Error"
    assert "bytes" in item.errors["summary"].message


def test_a_row_of_a_later_protocol_version_is_refused(store: SplitStoreClient) -> None:
    shared_client("dynamodb").put_item(
        TableName=INVOICES.table_name, Item={"id": {"S": "INV-1"}, "_rev": {"N": "1"}, "_parts": {"M": {}}, "_proto": {"N": "9"}}
    )
    with pytest.raises(UnsupportedRowError):
        store.get_index(KEY)


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.get({"id": ""}),
        lambda s: s.get({"id": "a", "x": "b"}),
        lambda s: s.get({"id": "a"}, parts=["Summary"]),
        lambda s: s.get({"id": "a"}, parts="summary"),
        lambda s: s.get({"id": "a" * 1000}, parts=["p" * 30]),
        lambda s: s.get({"id": "a"}, parts=[f"p{i}" for i in range(101)]),
        lambda s: s.get({"id": "a"}, part_timeout=0),
        lambda s: s.get({"id": "a"}, part_timeout=901),
        lambda s: s.get({"id": "a"}, part_timeout=float("nan")),
        lambda s: s.get_index({"id": 7}),
        lambda s: s.presign({"id": "a"}, "bad name"),
        lambda s: s.presign({"id": "a"}, "summary", expires_in=3601),
        lambda s: s.presign({"id": "a"}, "summary", expires_in=0),
    ],
)
def test_bad_read_requests_are_refused_before_any_call(aws: None, call: Any) -> None:
    log: list[tuple[str, dict[str, Any]]] = []
    client, _, _ = recorded_store(log)
    with pytest.raises(ValidationError):
        call(client)
    assert log == []


def test_presigned_url_serves_the_pinned_version(store: SplitStoreClient) -> None:
    # GIVEN a pinned version with an uncommitted version above it
    pins = seed_item(INVOICES, KEY, {}, {"summary": SUMMARY})
    put_version(INVOICES, KEY, "summary", b'{"total":99}')
    # WHEN
    presigned = store.presign(KEY, "summary", expires_in=60)
    # THEN
    assert presigned.version_id == pins["summary"].version_id
    assert f"versionId={pins['summary'].version_id}" in presigned.url
    assert "X-Amz-Expires=60" in presigned.url
    assert requests.get(presigned.url, timeout=10).content == SUMMARY


def test_presign_of_a_part_the_row_does_not_pin_is_not_found(store: SplitStoreClient) -> None:
    seed_item(INVOICES, KEY, {}, {"summary": SUMMARY})
    with pytest.raises(NotFoundError):
        store.presign(KEY, "lines")


def test_from_environment_reads_what_grant_and_configure_sets(aws: None) -> None:
    client = SplitStoreClient.from_environment(
        {
            "SPLIT_STORE_TABLE_NAME": "Invoices",
            "SPLIT_STORE_BUCKET_NAME": "invoices-parts",
            "SPLIT_STORE_KEY_PREFIX": "items/",
            "SPLIT_STORE_PARTITION_KEY": "id",
            "SPLIT_STORE_PARTITION_KEY_TYPE": "S",
            "SPLIT_STORE_INDEXES": '[{"name":"byCustomer","partitionKey":{"name":"customer","type":"S"},"sortKey":{"name":"issuedAt","type":"S"}}]',
            "SPLIT_STORE_WRITER_DEADLINE_MS": "20000",
        }
    )
    assert client.config == INVOICES
