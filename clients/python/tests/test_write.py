"""Writes (docs/PROTOCOL.md section 4): create, put in its three modes, update_parts, delete,
on moto's DynamoDB and versioned S3."""

from __future__ import annotations

from typing import Any

import pytest

from cdk_split_store_client import (
    ConflictError,
    DeadlineExceededError,
    NotFoundError,
    Part,
    SplitStoreClient,
    UnavailableError,
    UnsupportedRowError,
    ValidationError,
)

from .conftest import INVOICES, LEDGER, SESSION, create_store, shared_client
from .fakes import Recorder, client_error, commit_client
from .inspect_store import current_version, raw_row, version_ids, versions
from .seed import put_v1_row, seed_item

KEY = {"id": "INV-1"}


def recorded(config: Any = INVOICES) -> tuple[SplitStoreClient, Recorder, Recorder, Recorder]:
    log: list[tuple[str, dict[str, Any]]] = []
    s3 = Recorder(shared_client("s3"), log)
    dynamodb = Recorder(shared_client("dynamodb"), log)
    commit = Recorder(commit_client(), log)
    client = SplitStoreClient(config, s3_client=s3, dynamodb_client=dynamodb, commit_client=commit)  # type: ignore[arg-type]
    return client, s3, dynamodb, commit


def test_create_then_read_back_split(store: SplitStoreClient) -> None:
    # WHEN
    row = store.create(
        KEY,
        attributes={"customer": "c-17", "total": 1250.5},
        parts={"summary": Part.json({"total": 1250.5}), "notes": Part.text("thanks")},
    )
    # THEN
    assert row.revision == 1 and row.created
    assert row.attributes == {"id": "INV-1", "customer": "c-17", "total": pytest.approx(1250.5)}
    item = store.get_item(KEY, parts=["summary", "notes"])
    assert item.row == store.get_index(KEY)
    assert item.parts["summary"].json() == {"total": 1250.5}
    assert item.parts["notes"].text() == "thanks"
    assert item.parts["notes"].content_type == "text/plain; charset=utf-8"
    raw = raw_row(INVOICES, KEY)
    assert raw is not None
    assert raw["_proto"] == {"N": "2"} and raw["_rev"] == {"N": "1"}
    assert len(raw["_tok"]["S"]) == 22


def test_create_of_an_existing_item_is_a_conflict_and_puts_nothing(aws: None) -> None:
    create_store(INVOICES)
    client, s3, _, commit = recorded()
    client.create(KEY, parts={"summary": Part.json(1)})
    s3.log.clear()
    with pytest.raises(ConflictError):
        client.create(KEY, parts={"summary": Part.json(2)})
    # The precondition was checked on the state read: nothing was put, nothing committed.
    assert s3.calls("PutObject") == [] and commit.calls("PutItem") == []
    assert len(version_ids(INVOICES, KEY, "summary")) == 1


def test_a_stale_expected_revision_is_a_conflict_and_changes_nothing(store: SplitStoreClient) -> None:
    first = store.create(KEY, attributes={"n": 1}, parts={"summary": Part.json(1)})
    second = store.put(KEY, attributes={"n": 2}, parts={"summary": Part.json(2)}, expected_revision=1)
    assert second.revision == 2 and not second.created
    with pytest.raises(ConflictError):
        store.put(KEY, attributes={"n": 3}, parts={"summary": Part.json(3)}, expected_revision=first.revision)
    assert store.get_index(KEY) == store.get_item(KEY).row
    assert store.get_item(KEY).parts["summary"].json() == 2
    assert current_version(INVOICES, KEY, "summary") == second.parts["summary"].version_id


def test_an_unconditional_put_replaces_the_item_and_retires_the_parts_it_drops(store: SplitStoreClient) -> None:
    # GIVEN
    first = store.create(KEY, attributes={"a": 1}, parts={"summary": Part.json(1), "lines": Part.json([1])})
    # WHEN
    second = store.put(KEY, attributes={"b": 2}, parts={"summary": Part.json(2)})
    # THEN the new row has exactly the new attributes and parts
    assert second.revision == 2
    assert second.attributes == {"id": "INV-1", "b": 2}
    assert set(second.parts) == {"summary"}
    # "lines" got a delete marker; its committed version survives, noncurrent (I2)
    lines = versions(INVOICES, KEY, "lines")
    assert lines[0]["marker"] and lines[0]["latest"]
    assert first.parts["lines"].version_id in version_ids(INVOICES, KEY, "lines")
    # the replaced "summary" version is noncurrent, not deleted
    assert first.parts["summary"].version_id in version_ids(INVOICES, KEY, "summary")
    assert current_version(INVOICES, KEY, "summary") == second.parts["summary"].version_id


def test_update_parts_writes_removes_and_merges_keeping_the_rest(store: SplitStoreClient) -> None:
    first = store.create(KEY, attributes={"a": 1, "b": 1}, parts={"summary": Part.json(1), "lines": Part.json([1]), "notes": Part.text("n")})
    row = store.update_parts(KEY, parts={"summary": Part.json(2)}, remove_parts=["notes", "never-there"], attributes={"b": 2, "c": 3})
    assert row.revision == 2
    assert row.attributes == {"id": "INV-1", "a": 1, "b": 2, "c": 3}
    assert set(row.parts) == {"summary", "lines"}
    assert row.parts["lines"] == first.parts["lines"]
    assert row.parts["summary"] != first.parts["summary"]
    assert current_version(INVOICES, KEY, "notes") is None
    assert first.parts["notes"].version_id in version_ids(INVOICES, KEY, "notes")
    assert store.get_item(KEY).parts["summary"].json() == 2


def test_update_parts_with_a_stale_revision_or_a_missing_item_sends_nothing_to_s3(aws: None) -> None:
    create_store(INVOICES)
    client, s3, _, commit = recorded()
    client.create(KEY, parts={"summary": Part.json(1)})
    client.update_parts(KEY, attributes={"x": 1})
    s3.log.clear()
    with pytest.raises(ConflictError):
        client.update_parts(KEY, parts={"summary": Part.json(2)}, expected_revision=1)
    with pytest.raises(NotFoundError):
        client.update_parts({"id": "nope"}, parts={"summary": Part.json(2)})
    assert s3.calls("PutObject") == []
    assert commit.calls("UpdateItem") == []


def test_delete_leaves_a_tombstone_and_retires_every_part(store: SplitStoreClient) -> None:
    # GIVEN
    created = store.create(KEY, attributes={"customer": "c-1", "issuedAt": "2026-11-20"}, parts={"summary": Part.json(1)})
    # WHEN
    deleted = store.delete(KEY, expected_revision=1)
    # THEN
    assert deleted.revision == 1 and deleted.parts == created.parts  # the deleted row
    with pytest.raises(NotFoundError):
        store.get_index(KEY)
    with pytest.raises(NotFoundError):
        next(store.get(KEY, parts=["summary"]))
    raw = raw_row(INVOICES, KEY)
    assert raw is not None and raw["_del"] == {"BOOL": True} and raw["_rev"] == {"N": "2"}
    assert set(raw) == {"id", "_rev", "_tok", "_proto", "_del"}
    assert current_version(INVOICES, KEY, "summary") is None
    assert created.parts["summary"].version_id in version_ids(INVOICES, KEY, "summary")
    # lists leave tombstones out, by the table and by the index
    assert [row for page in store.list() for row in page.items] == []
    assert [row for page in store.list(index="byCustomer", partition_value="c-1") for row in page.items] == []
    with pytest.raises(NotFoundError):
        store.delete(KEY)
    with pytest.raises(NotFoundError):
        store.update_parts(KEY, attributes={"a": 1})


def test_revisions_go_on_across_delete_and_create_so_an_old_revision_never_matches(store: SplitStoreClient) -> None:
    store.create(KEY, parts={"summary": Part.json("first generation")})
    store.delete(KEY)
    again = store.create(KEY, parts={"summary": Part.json("second generation")})
    assert again.revision == 3 and again.created
    for stale in (1, 2):
        with pytest.raises(ConflictError):
            store.put(KEY, parts={"summary": Part.json("lost update")}, expected_revision=stale)
        with pytest.raises(ConflictError):
            store.update_parts(KEY, parts={"summary": Part.json("lost update")}, expected_revision=stale)
        with pytest.raises(ConflictError):
            store.delete(KEY, expected_revision=stale)
    assert store.get_item(KEY).parts["summary"].json() == "second generation"


def test_a_version_1_row_is_read_updated_and_deleted(aws: None) -> None:
    # GIVEN a row exactly as protocol version 1 wrote it
    create_store(LEDGER)
    client = SplitStoreClient(LEDGER, boto3_session=SESSION)
    key: dict[str, Any] = {"tenant": "acme", "number": 42}
    pins = seed_item(LEDGER, key, {"customer": "c-17"}, {"summary": b'{"v":1}', "lines": b"[]"}, revision=3)
    assert client.get_item(key).parts["summary"].json() == {"v": 1}
    # WHEN it is updated: conditioned on the v1 state, upgraded to v2
    row = client.update_parts(key, parts={"summary": Part.json({"v": 2})}, expected_revision=3)
    # THEN
    assert row.revision == 4 and row.parts["lines"] == pins["lines"]
    raw = raw_row(LEDGER, key)
    assert raw is not None and raw["_proto"] == {"N": "2"} and "_tok" in raw
    assert client.delete(key).revision == 4
    assert raw_row(LEDGER, key)["_rev"] == {"N": "5"}  # type: ignore[index]


def test_a_version_1_writer_conditions_cannot_overwrite_a_version_2_row(aws: None) -> None:
    # A v1 writer conditions every commit on attribute_not_exists(_proto).
    create_store(INVOICES)
    client = SplitStoreClient(INVOICES, boto3_session=SESSION)
    client.create(KEY, parts={"summary": Part.json(1)})
    dynamodb = shared_client("dynamodb")
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.put_item(
            TableName=INVOICES.table_name,
            Item={"id": {"S": "INV-1"}, "_rev": {"N": "2"}, "_parts": {"M": {}}},
            ConditionExpression="#rev = :r AND attribute_not_exists(#proto)",
            ExpressionAttributeNames={"#rev": "_rev", "#proto": "_proto"},
            ExpressionAttributeValues={":r": {"N": "1"}},
        )


def test_a_version_1_row_with_an_attribute_version_2_reserves_is_refused(store: SplitStoreClient) -> None:
    put_v1_row(INVOICES, KEY, {}, 1, {})
    dynamodb = shared_client("dynamodb")
    dynamodb.update_item(
        TableName=INVOICES.table_name, Key={"id": {"S": "INV-1"}}, UpdateExpression="SET #t = :t",
        ExpressionAttributeNames={"#t": "_tok"}, ExpressionAttributeValues={":t": {"S": "mine"}},
    )
    with pytest.raises(UnsupportedRowError):
        store.get_index(KEY)
    with pytest.raises(UnsupportedRowError):
        store.update_parts(KEY, attributes={"a": 1})


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.put(KEY, attributes={"_rev": 1}),
        lambda s: s.put(KEY, attributes={"_tok": "x"}),
        lambda s: s.put(KEY, attributes={"_del": True}),
        lambda s: s.put(KEY, attributes={"_parts": {}}),
        lambda s: s.put(KEY, attributes={"_proto": 2}),
        lambda s: s.put(KEY, attributes={"id": "other"}),
        lambda s: s.put(KEY, attributes={"x": float("nan")}),
        lambda s: s.put(KEY, parts={"Bad": Part.json(1)}),
        lambda s: s.put(KEY, parts={"p": b"raw bytes"}),
        lambda s: s.put(KEY, parts={"p": Part(b"x", "")}),
        lambda s: s.put(KEY, parts={"p": Part(b"x", "text/plain\n")}),
        lambda s: s.put(KEY, parts={f"p{i}": Part.json(i) for i in range(101)}),
        lambda s: s.put(KEY, create=True, expected_revision=1),
        lambda s: s.put(KEY, expected_revision=0),
        lambda s: s.put(KEY, expected_revision=True),
        lambda s: s.put(KEY, create="yes"),
        lambda s: s.put({"id": ""}),
        lambda s: s.update_parts(KEY),
        lambda s: s.update_parts(KEY, attributes={f"a{i}": i for i in range(101)}),
        lambda s: s.update_parts(KEY, parts={"a": Part.json(1)}, remove_parts=["a"]),
        lambda s: s.update_parts(KEY, remove_parts="a"),
        lambda s: s.update_parts(KEY, remove_parts=["A"]),
        lambda s: s.delete(KEY, expected_revision=-1),
        lambda s: s.delete({"id": "a", "other": 1}),
    ],
)
def test_bad_writes_are_refused_before_any_call(aws: None, call: Any) -> None:
    client, s3, dynamodb, commit = recorded()
    with pytest.raises(ValidationError):
        call(client)
    assert s3.log == []


def test_one_hundred_parts_are_accepted(store: SplitStoreClient) -> None:
    row = store.create(KEY, parts={f"p{i}": Part.json(i) for i in range(100)})
    assert len(row.parts) == 100


def test_a_failed_part_upload_removes_the_others_and_commits_nothing(aws: None) -> None:
    create_store(INVOICES)
    client, s3, _, commit = recorded()

    def fail_lines(params: dict[str, Any]) -> None:
        if params["Key"].endswith("/lines"):
            raise client_error("SlowDown", 503, "PutObject")

    s3.before["PutObject"] = fail_lines
    with pytest.raises(UnavailableError) as raised:
        client.create(KEY, parts={"summary": Part.json(1), "lines": Part.json(2)})
    assert "SlowDown" in str(raised.value)
    assert commit.log == [] or all(name != "PutItem" for name, _ in commit.log)
    assert version_ids(INVOICES, KEY, "summary") == set()  # deleted by VersionId: never committed
    assert raw_row(INVOICES, KEY) is None


def test_a_writer_past_its_deadline_compensates_and_never_commits(aws: None) -> None:
    create_store(INVOICES)
    client, s3, _, commit = recorded()
    now = [1000.0]
    client._writer.clock = lambda: now[0]

    def slow(params: dict[str, Any], result: Any) -> None:
        now[0] += 21.0  # the default writer deadline is 20 s

    s3.after["PutObject"] = slow
    with pytest.raises(DeadlineExceededError) as raised:
        client.create(KEY, parts={"summary": Part.json(1)})
    assert raised.value.code == "DeadlineExceeded" and raised.value.status == 503
    assert commit.calls("PutItem") == []
    assert version_ids(INVOICES, KEY, "summary") == set()
    assert raw_row(INVOICES, KEY) is None
