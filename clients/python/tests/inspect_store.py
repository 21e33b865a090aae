"""Looks at what a store holds, with direct boto3 calls: raw rows and S3 versions."""

from __future__ import annotations

from typing import Any


from cdk_split_store_client import StoreConfig
from cdk_split_store_client.codec import marshal_key
from cdk_split_store_client.keys import part_key

from .conftest import shared_client


def raw_row(config: StoreConfig, key: dict[str, Any]) -> dict[str, Any] | None:
    """The DynamoDB item of a key, as stored (consistent read)."""
    out = shared_client("dynamodb").get_item(
        TableName=config.table_name, Key=marshal_key(config, key), ConsistentRead=True
    )
    item: dict[str, Any] | None = out.get("Item")
    return item


def versions(config: StoreConfig, key: dict[str, Any], part: str) -> list[dict[str, Any]]:
    """Every version and delete marker of one part key, newest first: {id, marker, latest}."""
    s3_key = part_key(config, key, part)
    out = shared_client("s3").list_object_versions(Bucket=config.bucket_name, Prefix=s3_key)
    entries = [
        {"id": v["VersionId"], "marker": False, "latest": v["IsLatest"], "at": v["LastModified"]}
        for v in out.get("Versions", [])
        if v["Key"] == s3_key
    ] + [
        {"id": m["VersionId"], "marker": True, "latest": m["IsLatest"], "at": m["LastModified"]}
        for m in out.get("DeleteMarkers", [])
        if m["Key"] == s3_key
    ]
    return sorted(entries, key=lambda e: (not e["latest"]))


def current_version(config: StoreConfig, key: dict[str, Any], part: str) -> str | None:
    """The VersionId of the current version of a part, None when none (or a delete marker) is."""
    latest = [e for e in versions(config, key, part) if e["latest"]]
    return latest[0]["id"] if latest and not latest[0]["marker"] else None


def version_ids(config: StoreConfig, key: dict[str, Any], part: str) -> set[str]:
    """The VersionIds of the data versions (not markers) of a part."""
    return {e["id"] for e in versions(config, key, part) if not e["marker"]}
