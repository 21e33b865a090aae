"""Rows and part versions written directly, as a protocol version 1 writer left them."""

from __future__ import annotations

from typing import Any


from cdk_split_store_client import PartPin, StoreConfig
from cdk_split_store_client.codec import encode_pins, marshal_attributes, marshal_key
from cdk_split_store_client.keys import part_key

from .conftest import shared_client


def put_version(config: StoreConfig, key: dict[str, Any], part: str, body: bytes, content_type: str = "application/json") -> PartPin:
    """A new version of one part, current, not pinned by anything."""
    s3 = shared_client("s3")
    out = s3.put_object(Bucket=config.bucket_name, Key=part_key(config, key, part), Body=body, ContentType=content_type)
    return PartPin(version_id=out["VersionId"], etag=out["ETag"], size=len(body), content_type=content_type)


def put_v1_row(config: StoreConfig, key: dict[str, Any], attributes: dict[str, Any], revision: int, pins: dict[str, PartPin]) -> None:
    """An index row exactly as protocol version 1 writes it (no _proto)."""
    item = marshal_attributes({**attributes, **key})
    item.update(marshal_key(config, key))
    item["_rev"] = {"N": str(revision)}
    item["_parts"] = encode_pins(pins)
    shared_client("dynamodb").put_item(TableName=config.table_name, Item=item)


def seed_item(config: StoreConfig, key: dict[str, Any], attributes: dict[str, Any], parts: dict[str, bytes], revision: int = 1) -> dict[str, PartPin]:
    """Parts put, then the v1 row that pins them: a committed item."""
    pins = {name: put_version(config, key, name, body) for name, body in parts.items()}
    put_v1_row(config, key, attributes, revision, pins)
    return pins
