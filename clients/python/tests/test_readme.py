"""The README's Python snippets, run in order as an application would run them (on moto)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from cdk_split_store_client import IndexConfig, KeyAttribute, StoreConfig

from .conftest import create_store

README = Path(__file__).resolve().parents[1] / "README.md"
CONFIG = StoreConfig(
    table_name="Invoices-Table1A2B3C",
    bucket_name="invoices-bucket83908e77-1x2y3z",
    partition_key=KeyAttribute("id"),
    indexes=(IndexConfig("byCustomer", KeyAttribute("customer"), KeyAttribute("issuedAt")),),
)


def snippets() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text("utf-8"), flags=re.DOTALL)


def test_the_readme_has_snippets_for_every_step() -> None:
    text = "\n".join(snippets())
    for call in ("from_environment()", "store.create(", "store.get(", "store.update_parts(", "store.delete(", "store.list(", "store.list_page("):
        assert call in text


def test_the_readme_snippets_run(aws: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN the store and the environment grantAndConfigure sets
    create_store(CONFIG)
    for name, value in {
        "SPLIT_STORE_TABLE_NAME": CONFIG.table_name,
        "SPLIT_STORE_BUCKET_NAME": CONFIG.bucket_name,
        "SPLIT_STORE_KEY_PREFIX": "items/",
        "SPLIT_STORE_PARTITION_KEY": "id",
        "SPLIT_STORE_PARTITION_KEY_TYPE": "S",
        "SPLIT_STORE_INDEXES": '[{"name":"byCustomer","partitionKey":{"name":"customer","type":"S"},"sortKey":{"name":"issuedAt","type":"S"}}]',
    }.items():
        monkeypatch.setenv(name, value)
    # WHEN every snippet runs, in order, in one namespace
    namespace: dict[str, Any] = {}
    for code in snippets():
        exec(compile(code, str(README), "exec"), namespace)  # noqa: S102 - our own README
    # THEN it printed what the README says it does
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "1"
    assert out[1] == "row 1 c-17"
    assert sorted(out[2:4]) == [
        "part lines [{'sku': 'A-1', 'qty': 2, 'price': 625.25}]",
        "part summary {'total': 1250.5, 'currency': 'EUR'}",
    ]
    assert out[4].startswith("conflict: ")
    assert out[5] == "deleted revision 2"
    assert len(out) == 6  # the lists found nothing: the item was deleted
