"""The write operations: what each one checks, commits and retires. The sequence they share
(read, put, deadline, commit, judge, act) is :class:`commit.Writer`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ._limits import LIMITS, matches
from .codec import (
    PARTS_ATTRIBUTE,
    PROTOCOL_ATTRIBUTE,
    PROTOCOL_VERSION,
    REVISION_ATTRIBUTE,
    TOKEN_ATTRIBUTE,
    AttributeValue,
    Item,
    LiveRow,
    RowState,
    encode_pin,
    encode_pins,
    encode_tombstone,
    marshal_key,
    row_attributes,
)
from .commit import CommitRequest, PreparedPart, WriteSpec, next_revision, state_condition
from .config import StoreConfig
from .errors import ConflictError, NotFoundError, ValidationError
from .keys import part_key, validate_part_name
from .models import KeyValue, Part, PartPin

UNCONDITIONAL_ROUNDS = LIMITS.unconditional_write_rounds
"""Rounds of an unconditional put or delete when another writer's commit came first each time."""


def prepare_parts(config: StoreConfig, key: Mapping[str, KeyValue], parts: object) -> list[PreparedPart]:
    """Validates the parts of a write (names, bodies, content types, how many)."""
    if not isinstance(parts, Mapping):
        raise ValidationError("parts must be a mapping of part name to Part")
    if len(parts) > LIMITS.max_parts_per_write:
        raise ValidationError(f"at most {LIMITS.max_parts_per_write} parts per write, got {len(parts)}")
    prepared = []
    for name, part in parts.items():
        validate_part_name(name)
        if not isinstance(part, Part):
            raise ValidationError(f'part "{name}" must be a Part (Part(body, content_type), Part.json(value), Part.text(text))')
        if not isinstance(part.body, (bytes, bytearray, str)):
            raise ValidationError(f'part "{name}": body must be bytes or str, got {type(part.body).__name__}')
        content_type = part.resolved_content_type
        if not isinstance(content_type, str) or not matches(LIMITS.content_type_pattern, content_type):
            raise ValidationError(
                f'part "{name}": content_type must be 1 to 255 printable ASCII characters, got {content_type!r}'
            )
        prepared.append(PreparedPart(name, part_key(config, key, name), bytes(part.data), content_type))
    return prepared


def check_revision(value: object, name: str = "expected_revision") -> int | None:
    """Refuses a revision that is not a positive integer."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"{name} must be a positive integer, got {value!r}")
    return value


def _describe(key: Mapping[str, KeyValue]) -> str:
    return repr(dict(key))


def _live_at(item: str, expected_revision: int | None) -> Callable[[RowState], None]:
    """The precondition of update_parts and delete: a live row, at ``expected_revision`` if given."""

    def check(state: RowState) -> None:
        if not isinstance(state, LiveRow):
            raise NotFoundError(f"item {item} does not exist")
        if expected_revision is not None and state.revision != expected_revision:
            raise ConflictError(f"item {item} is at revision {state.revision}, not {expected_revision}")

    return check


def _put_item(config: StoreConfig, state: RowState, item: Item, retire: tuple[str, ...]) -> CommitRequest:
    """A PutItem commit of ``item``, conditional on the row still being ``state``."""
    names: dict[str, str] = {}
    values: dict[str, AttributeValue] = {}
    params: dict[str, Any] = {
        "TableName": config.table_name,
        "Item": item,
        "ConditionExpression": state_condition(config, state, names, values),
        "ExpressionAttributeNames": names,
    }
    if values:
        params["ExpressionAttributeValues"] = values
    return CommitRequest("PutItem", params, retire)


def put_spec(
    config: StoreConfig,
    key: Mapping[str, KeyValue],
    attributes: Mapping[str, Any],
    parts: Mapping[str, Part],
    expected_revision: int | None,
    create: bool,
) -> WriteSpec:
    """A whole-item put: the new row has exactly these attributes and parts; the parts the old
    row pinned and that are not named are retired."""
    if create and expected_revision is not None:
        raise ValidationError('create and expected_revision are exclusive: create means "the item does not exist"')
    marshalled = row_attributes(config, key, attributes)
    prepared = prepare_parts(config, key, parts)
    item = _describe(key)
    conditional_message = (
        f"item {item} already exists (create)"
        if create
        else f"item {item} is not at revision {expected_revision} (or does not exist)"
    )

    def check(state: RowState) -> None:
        if create and isinstance(state, LiveRow):
            raise ConflictError(conditional_message)
        if expected_revision is not None and (not isinstance(state, LiveRow) or state.revision != expected_revision):
            raise ConflictError(conditional_message)

    def build(state: RowState, token: str, pins: dict[str, PartPin]) -> CommitRequest:
        row = {
            **marshalled,
            REVISION_ATTRIBUTE: {"N": str(next_revision(state))},
            TOKEN_ATTRIBUTE: {"S": token},
            PROTOCOL_ATTRIBUTE: {"N": str(PROTOCOL_VERSION)},
            PARTS_ATTRIBUTE: encode_pins(pins),
        }
        retire = tuple(n for n in state.row.parts if n not in pins) if isinstance(state, LiveRow) else ()
        return _put_item(config, state, row, retire)

    unconditional = not create and expected_revision is None
    return WriteSpec(
        operation="put",
        key=key,
        parts=prepared,
        rounds=UNCONDITIONAL_ROUNDS if unconditional else 1,
        check=check,
        build=build,
        conflict=lambda state, rounds: (
            f"item {item} kept changing during an unconditional put ({rounds} attempts)" if unconditional else conditional_message
        ),
    )


def update_parts_spec(
    config: StoreConfig,
    key: Mapping[str, KeyValue],
    parts: Mapping[str, Part],
    remove_parts: Iterable[str],
    attributes: Mapping[str, Any],
    expected_revision: int | None,
) -> WriteSpec:
    """Changes some parts and merges some attributes of an existing item, keeping the pins of the
    parts it does not name; the removed parts are retired."""
    if isinstance(remove_parts, str) or not isinstance(remove_parts, Iterable):
        raise ValidationError("remove_parts must be a list of part names")
    removing = [validate_part_name(name) for name in remove_parts]
    if not isinstance(parts, Mapping):
        raise ValidationError("parts must be a mapping of part name to Part")
    if len(set(removing)) != len(removing):
        raise ValidationError("remove_parts names a part twice")
    if len(parts) + len(removing) > LIMITS.max_parts_per_write:
        raise ValidationError(
            f"an update writes and removes {len(parts) + len(removing)} parts, over the limit of "
            f"{LIMITS.max_parts_per_write} per write"
        )
    for name in removing:
        if name in parts:
            raise ValidationError(f'part "{name}" is both written (parts) and removed (remove_parts); pick one')
    key_names = {a.name for a in config.key_attributes}
    marshalled = {name: value for name, value in row_attributes(config, key, attributes).items() if name not in key_names}
    if len(marshalled) > LIMITS.max_attributes_per_update:
        raise ValidationError(
            f"an update sets {len(marshalled)} attributes, over the limit of {LIMITS.max_attributes_per_update}: "
            "use put to replace the whole item"
        )
    prepared = prepare_parts(config, key, parts)
    if not prepared and not removing and not marshalled:
        raise ValidationError("nothing to update: give parts, remove_parts or attributes")
    item = _describe(key)

    def build(state: RowState, token: str, pins: dict[str, PartPin]) -> CommitRequest:
        assert isinstance(state, LiveRow)  # check() let nothing else through
        removed = [name for name in removing if name in state.row.parts]
        names = {"#rev": REVISION_ATTRIBUTE, "#tok": TOKEN_ATTRIBUTE, "#proto": PROTOCOL_ATTRIBUTE}
        values: dict[str, AttributeValue] = {
            ":rev": {"N": str(next_revision(state))},
            ":tok": {"S": token},
            ":proto": {"N": str(PROTOCOL_VERSION)},
        }
        condition = state_condition(config, state, names, values)
        sets = ["#rev = :rev", "#tok = :tok", "#proto = :proto"]
        for i, (name, value) in enumerate(marshalled.items()):
            names[f"#a{i}"] = name
            values[f":a{i}"] = value
            sets.append(f"#a{i} = :a{i}")
        for i, (name, pin) in enumerate(pins.items()):
            names[f"#p{i}"] = name
            values[f":p{i}"] = encode_pin(pin)
            sets.append(f"#parts.#p{i} = :p{i}")
        removes = []
        for i, name in enumerate(removed):
            names[f"#r{i}"] = name
            removes.append(f"#parts.#r{i}")
        if pins or removed:
            names["#parts"] = PARTS_ATTRIBUTE
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        return CommitRequest(
            "UpdateItem",
            {
                "TableName": config.table_name,
                "Key": marshal_key(config, key),
                "UpdateExpression": expression,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            },
            tuple(removed),
        )

    return WriteSpec(
        operation="update_parts",
        key=key,
        parts=prepared,
        rounds=1,
        check=_live_at(item, expected_revision),
        build=build,
        conflict=lambda state, rounds: (
            f"item {item} changed (or was deleted) since revision {getattr(state, 'revision', '?')}; re-read and retry"
        ),
    )


def delete_spec(config: StoreConfig, key: Mapping[str, KeyValue], expected_revision: int | None) -> WriteSpec:
    """Replaces the row by a tombstone (the key, the next revision, a token), then retires every
    part of the deleted row: their pinned versions stay for the retention window."""
    item = _describe(key)

    def build(state: RowState, token: str, pins: dict[str, PartPin]) -> CommitRequest:
        tombstone = encode_tombstone(config, key, next_revision(state), token)
        return _put_item(config, state, tombstone, tuple(state.row.parts) if isinstance(state, LiveRow) else ())

    return WriteSpec(
        operation="delete",
        key=key,
        parts=(),
        rounds=UNCONDITIONAL_ROUNDS if expected_revision is None else 1,
        check=_live_at(item, expected_revision),
        build=build,
        conflict=lambda state, rounds: (
            f"item {item} is not at revision {expected_revision}"
            if expected_revision is not None
            else f"item {item} kept changing during the delete ({rounds} attempts)"
        ),
    )
