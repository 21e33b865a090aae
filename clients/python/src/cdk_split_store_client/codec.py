"""Index rows to and from DynamoDB items (docs/PROTOCOL.md section 3).

A row is the application's attributes (key attributes included) plus reserved attributes,
among them ``_parts``: part name to pin, a map ``{v: S VersionId, e: S ETag, s: N size, t: S
content type}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeGuard, Union, cast

from boto3.dynamodb.types import Binary, TypeDeserializer

from ._limits import LIMITS, matches, storable_number
from .config import StoreConfig
from .errors import UnsupportedRowError, ValidationError
from .keys import render_key_value, render_number, validate_key
from .models import IndexRow, KeyValue, PartPin

AttributeValue = dict[str, Any]
"""A DynamoDB attribute value in the low-level client's form (``{"S": "x"}``, ``{"N": "1"}``...)."""

Item = dict[str, AttributeValue]
"""A DynamoDB item in the low-level client's form."""

REVISION_ATTRIBUTE = "_rev"
"""Revision (N): 1 after the first create of a key, +1 on every commit, for ever (deletes included)."""
PARTS_ATTRIBUTE = "_parts"
"""Part name to pin (M); absent on a tombstone."""
PROTOCOL_ATTRIBUTE = "_proto"
"""Protocol version (N): ``2`` on every row this client writes; absent on a version 1 row."""
TOKEN_ATTRIBUTE = "_tok"
"""The unique token of the commit that wrote the row's state (S, version 2)."""
DELETED_ATTRIBUTE = "_del"
"""``true`` (BOOL) on a tombstone, the state a delete leaves (version 2)."""

RESERVED_ATTRIBUTES: tuple[str, ...] = (
    REVISION_ATTRIBUTE,
    PARTS_ATTRIBUTE,
    PROTOCOL_ATTRIBUTE,
    TOKEN_ATTRIBUTE,
    DELETED_ATTRIBUTE,
)
"""Attribute names an application may not use."""

PROTOCOL_VERSION = 2
"""The protocol version this client writes. It reads version 1 rows too."""

_PIN_VERSION_ID, _PIN_ETAG, _PIN_SIZE, _PIN_CONTENT_TYPE = "v", "e", "s", "t"

_DIGITS = re.compile("[0-9]+")
_deserializer = TypeDeserializer()


def _marshal(value: Any, path: str) -> AttributeValue:
    """One value in DynamoDB's attribute-value form. Numbers are written as JavaScript's
    ``String(number)`` writes them (floats) or exactly (``int``, ``Decimal``)."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, (int, float, Decimal)):
        return {"N": _number(value, path)}
    if isinstance(value, (bytes, bytearray, Binary)):
        return {"B": bytes(cast(Any, value))}
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValidationError(f"attribute {path}: map keys must be strings, got {k!r}")
            out[k] = _marshal(v, f"{path}.{k}")
        return {"M": out}
    if isinstance(value, (list, tuple)):
        return {"L": [_marshal(v, f"{path}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, (set, frozenset)):
        if not value:
            raise ValidationError(f"attribute {path} is an empty set, which DynamoDB cannot store")
        if all(isinstance(v, str) for v in value):
            return {"SS": list(value)}
        if all(isinstance(v, (int, float, Decimal)) and not isinstance(v, bool) for v in value):
            return {"NS": [_number(v, path) for v in value]}
        if all(isinstance(v, (bytes, bytearray, Binary)) for v in value):
            return {"BS": [bytes(cast(Any, v)) for v in value]}
        raise ValidationError(f"attribute {path} is a set that mixes types; DynamoDB sets hold strings, numbers or bytes")
    raise ValidationError(f"attribute {path} has a value of type {type(value).__name__}, which DynamoDB cannot store")


def _number(value: int | float | Decimal, path: str) -> str:
    text = render_number(value) if isinstance(value, float) else str(value)
    exact = Decimal(text) if isinstance(value, float) or not isinstance(value, Decimal) else value
    digits = len(exact.normalize().as_tuple().digits) if exact.is_finite() else 0
    if (
        not exact.is_finite()
        or not storable_number(float(exact))
        or digits > LIMITS.max_dynamodb_number_digits
    ):
        raise ValidationError(
            f"attribute {path} is {value!r}: DynamoDB stores numbers of at most {LIMITS.max_dynamodb_number_digits} "
            "significant digits, 0 or of a magnitude from 1e-130 to below 1e126; store it as a string"
        )
    return text


def marshal_attributes(attributes: object) -> Item:
    """The DynamoDB form of application attributes; refuses reserved names and values DynamoDB
    cannot store (:class:`ValidationError`)."""
    if not isinstance(attributes, Mapping):
        raise ValidationError("attributes must be a mapping of attribute name to value")
    item: Item = {}
    for name, value in attributes.items():
        if not isinstance(name, str) or not name:
            raise ValidationError(f"attribute names must be non-empty strings, got {name!r}")
        if name == "__proto__":
            raise ValidationError(
                'attribute name "__proto__" is refused: the AWS SDK for JavaScript drops it when it reads the row; '
                "rename the attribute"
            )
        if name in RESERVED_ATTRIBUTES:
            raise ValidationError(
                f'attribute name "{name}" is reserved by cdk-split-store (reserved: {", ".join(RESERVED_ATTRIBUTES)}); '
                "rename the attribute"
            )
        item[name] = _marshal(value, name)
    return item


def _from_dynamodb(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, Binary):
        return bytes(cast(Any, value))  # the stubs type Binary.__bytes__ as returning str
    if isinstance(value, dict):
        return {k: _from_dynamodb(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamodb(v) for v in value]
    if isinstance(value, set):
        return {_from_dynamodb(v) for v in value}
    return value


def unmarshal_attributes(item: Mapping[str, AttributeValue]) -> dict[str, Any]:
    """Application attributes from their DynamoDB form: integral numbers as ``int``, other numbers
    as ``Decimal`` (exact), binary as ``bytes``."""
    return {name: _from_dynamodb(_deserializer.deserialize(cast(Any, value))) for name, value in item.items()}


def merge_key_into_attributes(config: StoreConfig, key: Mapping[str, KeyValue], attributes: Mapping[str, Any]) -> dict[str, Any]:
    """The attributes with the key attributes set; refuses a key attribute that differs from the key."""
    for attribute in config.key_attributes:
        value = attributes.get(attribute.name)
        if value is not None and value != key[attribute.name]:
            raise ValidationError(
                f'attribute "{attribute.name}" is a key attribute and differs from the item key '
                f"({value!r} vs {key[attribute.name]!r}); omit it or make it equal"
            )
    return {**attributes, **key}


def row_attributes(config: StoreConfig, key: Mapping[str, KeyValue], attributes: Mapping[str, Any]) -> Item:
    """The user part of a row a write commits: the attributes with the item key merged in (key
    numbers in their canonical rendering). Refuses reserved names, a key attribute that differs
    from the key, and values DynamoDB cannot store."""
    item = marshal_attributes(merge_key_into_attributes(config, key, attributes))
    item.update(marshal_key(config, key))
    return item


def marshal_key(config: StoreConfig, key: Mapping[str, KeyValue]) -> Item:
    """The DynamoDB key of an item (numbers in their canonical rendering)."""
    return {a.name: {a.type: render_key_value(key[a.name])} for a in config.key_attributes}


def encode_pin(pin: PartPin) -> AttributeValue:
    """A pin as its DynamoDB map."""
    return {
        "M": {
            _PIN_VERSION_ID: {"S": pin.version_id},
            _PIN_ETAG: {"S": pin.etag},
            _PIN_SIZE: {"N": str(pin.size)},
            _PIN_CONTENT_TYPE: {"S": pin.content_type},
        }
    }


def encode_pins(parts: Mapping[str, PartPin]) -> AttributeValue:
    """All pins as the ``_parts`` map."""
    return {"M": {name: encode_pin(pin) for name, pin in parts.items()}}


def _is_digits(text: object) -> TypeGuard[str]:
    return isinstance(text, str) and _DIGITS.fullmatch(text) is not None


def _field(fields: Mapping[str, Any], name: str, kind: str) -> str | None:
    value = fields.get(name)
    text = value.get(kind) if isinstance(value, dict) else None
    return text if isinstance(text, str) else None


def _decode_pin(name: str, value: Any) -> PartPin:
    fields = value.get("M") if isinstance(value, dict) else None
    if isinstance(fields, dict):
        version_id = _field(fields, _PIN_VERSION_ID, "S")
        etag = _field(fields, _PIN_ETAG, "S")
        size = _field(fields, _PIN_SIZE, "N")
        content_type = _field(fields, _PIN_CONTENT_TYPE, "S")
        if version_id is not None and etag is not None and content_type is not None and _is_digits(size):
            return PartPin(version_id=version_id, etag=etag, size=int(size), content_type=content_type)
    raise UnsupportedRowError(f'malformed pin for part "{name}" in {PARTS_ATTRIBUTE}: expected M {{v:S, e:S, s:N, t:S}}')


def _decode_key_value(attribute_type: str, value: Any) -> KeyValue | None:
    if not isinstance(value, dict):
        return None
    text = value.get(attribute_type)
    if not isinstance(text, str) or not text:
        return None
    if attribute_type == "S":
        return text
    try:
        number = Decimal(text)
    except ArithmeticError:
        return None
    if not number.is_finite():
        return None
    # Integers exactly (a key no double holds then fails when a part key is derived from it).
    return int(number) if number == number.to_integral_value() else float(number)


@dataclass(frozen=True)
class NoRow:
    """The key has no row: it never existed (or its row was removed by hand)."""


@dataclass(frozen=True)
class Tombstone:
    """The key was deleted; its revisions go on from here."""

    revision: int
    token: str


@dataclass(frozen=True)
class LiveRow:
    """The key has a row: ``token`` is None on a version 1 row."""

    revision: int
    token: str | None
    row: IndexRow
    item: Item


RowState = Union[NoRow, Tombstone, LiveRow]
"""The state of a key as a writer reads it before it commits."""


def _protocol_of(item: Mapping[str, Any]) -> int:
    proto = item.get(PROTOCOL_ATTRIBUTE)
    version = proto.get("N") if isinstance(proto, dict) else None
    if proto is None or version == "1":
        for name in (TOKEN_ATTRIBUTE, DELETED_ATTRIBUTE):
            if name in item:
                raise UnsupportedRowError(
                    f"row has no {PROTOCOL_ATTRIBUTE} (a protocol version 1 row) but has attribute {name}, which "
                    "protocol version 2 reserves: rename that attribute before writing the row with cdk-split-store"
                )
        return 1
    if version == str(PROTOCOL_VERSION):
        return PROTOCOL_VERSION
    raise UnsupportedRowError(
        f"row was written by protocol version {version if version is not None else proto!r} (attribute {PROTOCOL_ATTRIBUTE}); "
        f"this client reads versions 1 and {PROTOCOL_VERSION}: upgrade cdk-split-store-client"
    )


def _revision_of(item: Mapping[str, Any]) -> int:
    value = item.get(REVISION_ATTRIBUTE)
    text = value.get("N") if isinstance(value, dict) else None
    if not _is_digits(text):
        raise UnsupportedRowError(f"row has no valid {REVISION_ATTRIBUTE} (N): not written by cdk-split-store?")
    return int(text)


def decode_state(config: StoreConfig, item: Mapping[str, AttributeValue] | None) -> RowState:
    """The state of a key from the item a consistent GetItem returned (None: no item).
    Raises :class:`UnsupportedRowError` for a row this client must not interpret."""
    if item is None:
        return NoRow()
    proto = _protocol_of(item)
    revision = _revision_of(item)
    if proto == 1:
        return LiveRow(revision, None, _decode_live(config, item, revision), dict(item))
    token_value = item.get(TOKEN_ATTRIBUTE)
    token = token_value.get("S") if isinstance(token_value, dict) else None
    if not isinstance(token, str) or not token:
        raise UnsupportedRowError(f"protocol version 2 row without {TOKEN_ATTRIBUTE} (S)")
    deleted = item.get(DELETED_ATTRIBUTE)
    if deleted is not None:
        if deleted != {"BOOL": True}:
            raise UnsupportedRowError(f"{DELETED_ATTRIBUTE} must be BOOL true on a tombstone")
        return Tombstone(revision, token)
    return LiveRow(revision, token, _decode_live(config, item, revision), dict(item))


def decode_row(config: StoreConfig, item: Mapping[str, AttributeValue]) -> IndexRow:
    """A live index row from its DynamoDB item (version 1 or 2). Refuses
    (:class:`UnsupportedRowError`) a row of another protocol version, a tombstone, or an item
    that is not a store row."""
    state = decode_state(config, item)
    if not isinstance(state, LiveRow):
        raise UnsupportedRowError("a tombstone (deleted item) is not a row")
    return state.row


def _decode_live(config: StoreConfig, item: Mapping[str, AttributeValue], revision: int) -> IndexRow:
    if revision < 1:
        raise UnsupportedRowError(f"row has {REVISION_ATTRIBUTE} {revision}: a live row starts at 1")
    pins_value = item.get(PARTS_ATTRIBUTE, {"M": {}})
    pins_map = pins_value.get("M") if isinstance(pins_value, dict) else None
    if not isinstance(pins_map, dict):
        raise UnsupportedRowError(f"row has a {PARTS_ATTRIBUTE} that is not a map (M)")
    parts: dict[str, PartPin] = {}
    for name, value in pins_map.items():
        if not matches(LIMITS.part_name_pattern, name):
            raise UnsupportedRowError(f"row pins an invalid part name {name!r}")
        parts[name] = _decode_pin(name, value)
    key: dict[str, KeyValue] = {}
    for attribute in config.key_attributes:
        decoded = _decode_key_value(attribute.type, item.get(attribute.name))
        if decoded is None:
            raise UnsupportedRowError(f'row has no key attribute "{attribute.name}" of type {attribute.type}')
        key[attribute.name] = decoded
    user = {name: value for name, value in item.items() if name not in RESERVED_ATTRIBUTES}
    return IndexRow(key=key, attributes=unmarshal_attributes(user), revision=revision, parts=parts)


@dataclass(frozen=True)
class ObservedRow:
    """What a writer needs of a row it finds after sending a commit: its revision and token,
    read without decoding the rest (a row this client cannot decode is simply not ours)."""

    revision: int | None
    token: str | None


def observe_row(item: Mapping[str, Any] | None) -> ObservedRow | None:
    """The revision and token of an item (None: no item)."""
    if item is None:
        return None
    revision_value = item.get(REVISION_ATTRIBUTE)
    revision_text = revision_value.get("N") if isinstance(revision_value, dict) else None
    token_value = item.get(TOKEN_ATTRIBUTE)
    token = token_value.get("S") if isinstance(token_value, dict) else None
    return ObservedRow(
        revision=int(revision_text) if _is_digits(revision_text) else None,
        token=token if isinstance(token, str) else None,
    )


def _version_attributes(token: str) -> Item:
    return {TOKEN_ATTRIBUTE: {"S": token}, PROTOCOL_ATTRIBUTE: {"N": str(PROTOCOL_VERSION)}}


def encode_row(config: StoreConfig, row: IndexRow, token: str | None = None) -> Item:
    """The DynamoDB item of a row: with a commit token a version 2 row (``_tok``, ``_proto``),
    without one a row as protocol version 1 wrote it."""
    key = validate_key(config, row.key)
    if isinstance(row.revision, bool) or not isinstance(row.revision, int) or row.revision < 1:
        raise ValidationError(f"revision must be a positive integer, got {row.revision!r}")
    item = row_attributes(config, key, row.attributes)
    item[REVISION_ATTRIBUTE] = {"N": str(row.revision)}
    item[PARTS_ATTRIBUTE] = encode_pins(row.parts)
    if token is not None:
        item.update(_version_attributes(token))
    return item


def encode_tombstone(config: StoreConfig, key: Mapping[str, KeyValue], revision: int, token: str) -> Item:
    """The item of a tombstone: the key, ``_rev``, ``_tok``, ``_proto`` and ``_del``, nothing else."""
    item = marshal_key(config, key)
    item[REVISION_ATTRIBUTE] = {"N": str(revision)}
    item.update(_version_attributes(token))
    item[DELETED_ATTRIBUTE] = {"BOOL": True}
    return item
