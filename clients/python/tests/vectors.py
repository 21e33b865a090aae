"""Loads the shared conformance vectors of protocol/vectors/ (see its README)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from cdk_split_store_client import IndexConfig, KeyAttribute, StoreConfig

VECTORS = Path(__file__).resolve().parents[3] / "protocol" / "vectors"
"""The repository's protocol/vectors folder."""


def load(file: str) -> list[dict[str, Any]]:
    """The vectors of one file."""
    doc: dict[str, Any] = json.loads((VECTORS / file).read_text("utf-8"))
    vectors: list[dict[str, Any]] = doc["vectors"]
    return vectors


def _key_attribute(raw: dict[str, Any]) -> KeyAttribute:
    return KeyAttribute(raw["name"], raw["type"])


def store(name: str) -> StoreConfig:
    """A store configuration of stores.json, by name."""
    raw: dict[str, Any] = json.loads((VECTORS / "stores.json").read_text("utf-8"))["stores"][name]
    return StoreConfig(
        table_name=raw["tableName"],
        bucket_name=raw["bucketName"],
        key_prefix=raw["keyPrefix"],
        partition_key=_key_attribute(raw["partitionKey"]),
        sort_key=_key_attribute(raw["sortKey"]) if "sortKey" in raw else None,
        indexes=tuple(
            IndexConfig(
                name=i["name"],
                partition_key=_key_attribute(i["partitionKey"]),
                sort_key=_key_attribute(i["sortKey"]) if "sortKey" in i else None,
            )
            for i in raw.get("indexes", [])
        ),
    )


def from_dynamodb_json(value: Any) -> Any:
    """DynamoDB JSON (binary as base64 text) to the low-level boto3 form (binary as bytes)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if k == "B":
                out[k] = base64.b64decode(v)
            elif k == "BS":
                out[k] = [base64.b64decode(b) for b in v]
            else:
                out[k] = from_dynamodb_json(v)
        return out
    if isinstance(value, list):
        return [from_dynamodb_json(v) for v in value]
    return value


def to_comparable(value: Any) -> Any:
    """Low-level boto3 form to DynamoDB JSON, with set members sorted (sets have no order)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if k == "B":
                out[k] = base64.b64encode(bytes(v)).decode("ascii")
            elif k == "BS":
                out[k] = sorted(base64.b64encode(bytes(b)).decode("ascii") for b in v)
            elif k in ("SS", "NS"):
                out[k] = sorted(v)
            else:
                out[k] = to_comparable(v)
        return out
    if isinstance(value, list):
        return [to_comparable(v) for v in value]
    return value


def ids(vectors: list[dict[str, Any]]) -> list[str]:
    """pytest ids: the vector names."""
    return [v["name"] for v in vectors]
