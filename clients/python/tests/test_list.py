"""Lists (docs/PROTOCOL.md section 7): index rows only, pages and cursors, never S3."""

from __future__ import annotations

from typing import Any

import pytest

from cdk_split_store_client import SplitStoreClient, ValidationError
from cdk_split_store_client.cursor import encode_cursor

from .conftest import INVOICES, LEDGER, create_store, shared_client
from .fakes import Recorder, commit_client
from .seed import seed_item


def recorded(config: Any) -> tuple[SplitStoreClient, list[tuple[str, dict[str, Any]]]]:
    log: list[tuple[str, dict[str, Any]]] = []
    s3 = Recorder(shared_client("s3"), log)
    dynamodb = Recorder(shared_client("dynamodb"), log)
    return SplitStoreClient(config, s3_client=s3, dynamodb_client=dynamodb, commit_client=commit_client()), log  # type: ignore[arg-type]


def test_pages_follow_the_cursor_to_the_end_and_never_touch_s3(aws: None) -> None:
    # GIVEN
    create_store(INVOICES)
    for i in range(7):
        seed_item(INVOICES, {"id": f"INV-{i}"}, {"customer": "c-1", "issuedAt": f"2026-11-0{i}"}, {"summary": b"{}"})
    client, log = recorded(INVOICES)
    # WHEN
    pages = list(client.list(limit=3))
    # THEN
    ids = [row.key["id"] for page in pages for row in page.items]
    assert sorted(ids) == [f"INV-{i}" for i in range(7)]
    assert all(len(page.items) <= 3 for page in pages)
    assert pages[-1].cursor is None and all(page.cursor for page in pages[:-1])
    assert all(row.parts["summary"].size == 2 for page in pages for row in page.items)
    assert {name for name, _ in log} == {"Scan"}


def test_a_cursor_resumes_a_list_where_the_page_ended(aws: None) -> None:
    create_store(INVOICES)
    for i in range(5):
        seed_item(INVOICES, {"id": f"INV-{i}"}, {}, {})
    client, _ = recorded(INVOICES)
    first = client.list_page(limit=2)
    assert first.cursor is not None
    rest = [row.key["id"] for page in client.list(limit=2, cursor=first.cursor) for row in page.items]
    assert sorted([row.key["id"] for row in first.items] + rest) == [f"INV-{i}" for i in range(5)]


def test_query_by_partition_value_in_sort_key_order(aws: None) -> None:
    create_store(LEDGER)
    for number in (3, -1.5, 42, 7):
        seed_item(LEDGER, {"tenant": "acme", "number": number}, {"note": str(number)}, {})
    seed_item(LEDGER, {"tenant": "other", "number": 1}, {}, {})
    client, log = recorded(LEDGER)
    ascending = [row.key["number"] for row in client.list_page(partition_value="acme").items]
    descending = [row.key["number"] for row in client.list_page(partition_value="acme", ascending=False).items]
    assert ascending == [-1.5, 3, 7, 42]
    assert descending == [42, 7, 3, -1.5]
    assert {name for name, _ in log} == {"Query"}


def test_query_a_secondary_index(aws: None) -> None:
    create_store(INVOICES)
    seed_item(INVOICES, {"id": "INV-1"}, {"customer": "c-1", "issuedAt": "2026-11-02"}, {})
    seed_item(INVOICES, {"id": "INV-2"}, {"customer": "c-1", "issuedAt": "2026-11-01"}, {})
    seed_item(INVOICES, {"id": "INV-3"}, {"customer": "c-2", "issuedAt": "2026-11-01"}, {})
    client, log = recorded(INVOICES)
    pages = list(client.list(index="byCustomer", partition_value="c-1", limit=1))
    assert [row.key["id"] for page in pages for row in page.items] == ["INV-2", "INV-1"]
    assert all(params.get("IndexName") == "byCustomer" for _, params in log)


@pytest.mark.parametrize(
    "arguments",
    [
        {"limit": 0},
        {"limit": 1001},
        {"limit": True},
        {"index": "byTotal"},
        {"cursor": "not a cursor"},
        {"cursor": encode_cursor({"other": {"S": "x"}})},
        {"partition_value": ""},
        {"partition_value": 7},
        {"ascending": "yes"},
    ],
)
def test_bad_list_requests_are_refused_before_any_call(aws: None, arguments: dict[str, Any]) -> None:
    client, log = recorded(INVOICES)
    with pytest.raises(ValidationError):
        client.list_page(**arguments)
    with pytest.raises(ValidationError):
        client.list(**arguments)
    assert log == []
