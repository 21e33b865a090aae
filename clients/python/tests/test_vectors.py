"""The shared conformance vectors (protocol/vectors/), which the TypeScript client passes too."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import pytest

from cdk_split_store_client import IndexRow, PartPin, SplitStoreError
from cdk_split_store_client.codec import (
    LiveRow,
    NoRow,
    Tombstone,
    decode_row,
    decode_state,
    encode_row,
    encode_tombstone,
    marshal_attributes,
    row_attributes,
)
from cdk_split_store_client.cursor import decode_cursor, encode_cursor
from cdk_split_store_client.keys import item_prefix, parse_part_key, part_key, validate_key

from .vectors import from_dynamodb_json, ids, load, store, to_comparable

NUMBERS = load("numbers.json")
PART_KEYS = load("part-keys.json")
PARSE = load("parse-part-keys.json")
CURSORS = load("cursors.json")
ROWS = load("rows.json")
ATTRIBUTES = load("attributes.json")


def error_code(action: Any) -> str:
    with pytest.raises(SplitStoreError) as raised:
        action()
    return raised.value.code


@pytest.mark.parametrize("vector", NUMBERS, ids=ids(NUMBERS))
def test_number_key_segment(vector: dict[str, Any]) -> None:
    config = store("n")
    value = float(vector["input"]["number"])  # the nearest double, as JavaScript's Number() reads it
    key = {"n": value}
    if "error" in vector["expected"]:
        assert error_code(lambda: part_key(config, key, "p")) == vector["expected"]["error"]
        return
    s3_key = part_key(config, key, "p")
    assert s3_key == f"items/{vector['expected']['segment']}/p"


@pytest.mark.parametrize("vector", PART_KEYS, ids=ids(PART_KEYS))
def test_part_key(vector: dict[str, Any]) -> None:
    config = store(vector["input"]["store"])
    key = vector["input"]["key"]
    expected = vector["expected"]
    if "part" in vector["input"]:
        part = vector["input"]["part"]
        if "error" in expected:
            assert error_code(lambda: part_key(config, key, part)) == expected["error"]
        else:
            assert part_key(config, key, part) == expected["s3Key"]
    elif "error" in expected:
        assert error_code(lambda: validate_key(config, key)) == expected["error"]
    else:
        validate_key(config, key)
        assert item_prefix(config, key) == expected["itemPrefix"]


@pytest.mark.parametrize("vector", PARSE, ids=ids(PARSE))
def test_parse_part_key(vector: dict[str, Any]) -> None:
    config = store(vector["input"]["store"])
    parsed = parse_part_key(config, vector["input"]["s3Key"])
    expected = vector["expected"]["parsed"]
    if expected is None:
        assert parsed is None
    else:
        assert parsed is not None
        assert (parsed.key, parsed.part) == (expected["key"], expected["part"])
        # A parsed key derives the S3 key it came from.
        assert part_key(config, parsed.key, parsed.part) == vector["input"]["s3Key"]


def _cursor_attributes(vector: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    config = store(vector["input"]["store"])
    allowed = list(config.key_attributes)
    if "index" in vector["input"]:
        index = config.index(vector["input"]["index"])
        assert index is not None
        allowed += [index.partition_key] + ([index.sort_key] if index.sort_key else [])
    return allowed, list(config.key_attributes)


@pytest.mark.parametrize("vector", CURSORS, ids=ids(CURSORS))
def test_cursor(vector: dict[str, Any]) -> None:
    expected = vector["expected"]
    if vector["operation"] == "encodeCursor":
        assert encode_cursor(vector["input"]["lastEvaluatedKey"]) == expected["cursor"]
        return
    assert vector["operation"] == "decodeCursor"
    allowed, required = _cursor_attributes(vector)
    cursor = vector["input"]["cursor"]
    if "error" in expected:
        assert error_code(lambda: decode_cursor(cursor, allowed, required)) == expected["error"]
    else:
        assert decode_cursor(cursor, allowed, required) == expected["exclusiveStartKey"]


def _pin_json(pin: Any) -> dict[str, Any]:
    fields = asdict(pin)
    return {
        "versionId": fields["version_id"],
        "etag": fields["etag"],
        "size": fields["size"],
        "contentType": fields["content_type"],
    }


@pytest.mark.parametrize("vector", ROWS, ids=ids(ROWS))
def test_rows(vector: dict[str, Any]) -> None:
    config = store(vector["input"]["store"])
    expected = vector["expected"]
    operation = vector["operation"]
    if operation == "decodeRow":
        item = from_dynamodb_json(vector["input"]["item"])
        if "error" in expected:
            assert error_code(lambda: decode_row(config, item)) == expected["error"]
            return
        row = decode_row(config, item)
        want = expected["row"]
        assert row.key == want["key"]
        assert row.revision == want["revision"]
        assert {name: _pin_json(pin) for name, pin in row.parts.items()} == want["parts"]
        assert to_comparable(marshal_attributes(row.attributes)) == to_comparable(from_dynamodb_json(want["attributes"]))
    elif operation == "decodeState":
        raw = vector["input"]["item"]
        item = None if raw is None else from_dynamodb_json(raw)
        if "error" in expected:
            assert error_code(lambda: decode_state(config, item)) == expected["error"]
            return
        state = decode_state(config, item)
        kind = {NoRow: "none", Tombstone: "tombstone", LiveRow: "live"}[type(state)]
        seen: dict[str, Any] = {"kind": kind}
        if not isinstance(state, NoRow):
            seen.update(revision=state.revision, token=state.token)
        assert seen == expected["state"]
    elif operation == "encodeRow":
        raw_row = vector["input"]["row"]
        row = IndexRow(
            key=raw_row["key"],
            attributes=raw_row["attributes"],
            revision=raw_row["revision"],
            parts={name: PartPin(p["versionId"], p["etag"], p["size"], p["contentType"]) for name, p in raw_row["parts"].items()},
        )
        if "error" in expected:
            assert error_code(lambda: encode_row(config, row, vector["input"]["token"])) == expected["error"]
            return
        assert to_comparable(encode_row(config, row, vector["input"]["token"])) == to_comparable(from_dynamodb_json(expected["item"]))
    else:
        assert operation == "encodeTombstone"
        given = vector["input"]
        item = encode_tombstone(config, validate_key(config, given["key"]), given["revision"], given["token"])
        assert to_comparable(item) == to_comparable(from_dynamodb_json(expected["item"]))


@pytest.mark.parametrize("vector", ATTRIBUTES, ids=ids(ATTRIBUTES))
def test_write_attributes(vector: dict[str, Any]) -> None:
    config = store(vector["input"]["store"])
    key = validate_key(config, vector["input"]["key"])
    attributes = vector["input"]["attributes"]
    expected = vector["expected"]

    def marshal() -> dict[str, Any]:
        return row_attributes(config, key, attributes)

    if "error" in expected:
        assert error_code(marshal) == expected["error"]
    else:
        assert to_comparable(marshal()) == to_comparable(from_dynamodb_json(expected["item"]))


def test_every_vector_file_is_run() -> None:
    from .vectors import VECTORS

    files = {p.name for p in VECTORS.glob("*.json")} - {"stores.json"}
    assert files == {"numbers.json", "part-keys.json", "parse-part-keys.json", "cursors.json", "rows.json", "attributes.json"}



def test_the_package_carries_the_shared_limits() -> None:
    from importlib import resources

    from .vectors import VECTORS

    shipped = resources.files("cdk_split_store_client").joinpath("limits.json").read_text("utf-8")
    assert shipped == (VECTORS.parent / "limits.json").read_text("utf-8")
