"""What a client needs to know about a store (docs/PROTOCOL.md section 1).

``SplitStore.grantAndConfigure(fn)`` sets the ``SPLIT_STORE_*`` environment variables on an
application function; :meth:`StoreConfig.from_environment` reads them.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ._limits import LIMITS
from .errors import ConfigurationError

KeyType = Literal["S", "N"]

TABLE_NAME_ENV = "SPLIT_STORE_TABLE_NAME"
BUCKET_NAME_ENV = "SPLIT_STORE_BUCKET_NAME"
KEY_PREFIX_ENV = "SPLIT_STORE_KEY_PREFIX"
PARTITION_KEY_ENV = "SPLIT_STORE_PARTITION_KEY"
PARTITION_KEY_TYPE_ENV = "SPLIT_STORE_PARTITION_KEY_TYPE"
SORT_KEY_ENV = "SPLIT_STORE_SORT_KEY"
SORT_KEY_TYPE_ENV = "SPLIT_STORE_SORT_KEY_TYPE"
INDEXES_ENV = "SPLIT_STORE_INDEXES"
WRITER_DEADLINE_ENV = "SPLIT_STORE_WRITER_DEADLINE_MS"


@dataclass(frozen=True)
class KeyAttribute:
    """A key attribute: its name and DynamoDB scalar type (``"S"`` or ``"N"``)."""

    name: str
    type: KeyType = "S"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigurationError(f"a key attribute name must be a non-empty string, got {self.name!r}")
        if self.type not in ("S", "N"):
            raise ConfigurationError(f"key attribute {self.name!r}: type must be 'S' or 'N', got {self.type!r}")


@dataclass(frozen=True)
class IndexConfig:
    """A global secondary index that a list may query."""

    name: str
    partition_key: KeyAttribute
    sort_key: KeyAttribute | None = None


@dataclass(frozen=True)
class StoreConfig:
    """A store: its table, its bucket and how item keys map to part keys."""

    table_name: str
    bucket_name: str
    partition_key: KeyAttribute
    sort_key: KeyAttribute | None = None
    key_prefix: str = LIMITS.default_key_prefix
    indexes: tuple[IndexConfig, ...] = field(default_factory=tuple)
    writer_deadline_ms: float = LIMITS.default_writer_deadline_ms

    def __post_init__(self) -> None:
        if not self.table_name:
            raise ConfigurationError("table_name must not be empty")
        if not self.bucket_name:
            raise ConfigurationError("bucket_name must not be empty")
        if not isinstance(self.key_prefix, str):
            raise ConfigurationError(f"key_prefix must be a string, got {self.key_prefix!r}")
        if self.sort_key is not None and self.sort_key.name == self.partition_key.name:
            raise ConfigurationError(f"sort key and partition key are both named {self.partition_key.name!r}")
        deadline = self.writer_deadline_ms
        if isinstance(deadline, bool) or not isinstance(deadline, (int, float)) or not math.isfinite(deadline) or deadline <= 0:
            raise ConfigurationError(f"writer_deadline_ms must be a positive number of milliseconds, got {deadline!r}")

    @property
    def key_attributes(self) -> tuple[KeyAttribute, ...]:
        """The item key's attributes, partition key first."""
        return (self.partition_key,) if self.sort_key is None else (self.partition_key, self.sort_key)

    def index(self, name: str) -> IndexConfig | None:
        """The secondary index called ``name``, or None."""
        return next((i for i in self.indexes if i.name == name), None)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> StoreConfig:
        """Reads the ``SPLIT_STORE_*`` variables that ``SplitStore.grantAndConfigure`` sets.

        Raises :class:`ConfigurationError` naming the variable when one is missing or invalid.
        """
        env = os.environ if environ is None else environ
        sort_key_name = env.get(SORT_KEY_ENV)
        deadline_text = env.get(WRITER_DEADLINE_ENV)
        deadline: float = LIMITS.default_writer_deadline_ms
        if deadline_text is not None:
            try:
                deadline = float(deadline_text)
            except ValueError:
                deadline = math.nan
            if not math.isfinite(deadline) or deadline <= 0:
                raise ConfigurationError(
                    f"{WRITER_DEADLINE_ENV} must be a positive number of milliseconds, got {deadline_text!r}"
                )
        return cls(
            table_name=_required(env, TABLE_NAME_ENV),
            bucket_name=_required(env, BUCKET_NAME_ENV),
            key_prefix=env.get(KEY_PREFIX_ENV, LIMITS.default_key_prefix),
            partition_key=KeyAttribute(
                _required(env, PARTITION_KEY_ENV), _key_type(env.get(PARTITION_KEY_TYPE_ENV, "S"), PARTITION_KEY_TYPE_ENV)
            ),
            sort_key=(
                KeyAttribute(sort_key_name, _key_type(env.get(SORT_KEY_TYPE_ENV, "S"), SORT_KEY_TYPE_ENV))
                if sort_key_name
                else None
            ),
            indexes=_indexes(env.get(INDEXES_ENV)),
            writer_deadline_ms=deadline,
        )


def _required(env: Mapping[str, str], variable: str) -> str:
    value = env.get(variable)
    if not value:
        raise ConfigurationError(
            f"{variable} is not set: wire the function with SplitStore.grantAndConfigure() or set it by hand"
        )
    return value


def _key_type(value: object, where: str) -> KeyType:
    if value == "S" or value == "N":
        return value
    raise ConfigurationError(f"{where} must be 'S' or 'N', got {value!r}")


def _key_attribute(value: object, where: str) -> KeyAttribute:
    if not isinstance(value, dict) or not isinstance(value.get("name"), str) or not value["name"]:
        raise ConfigurationError(f'{where} must be {{"name": "...", "type": "S" | "N"}}, got {value!r}')
    return KeyAttribute(value["name"], _key_type(value.get("type", "S"), f"{where}.type"))


def _indexes(text: str | None) -> tuple[IndexConfig, ...]:
    if not text:
        return ()
    try:
        raw: Any = json.loads(text)
    except ValueError as e:
        raise ConfigurationError(f"{INDEXES_ENV} is not valid JSON: {e}") from None
    if not isinstance(raw, list):
        raise ConfigurationError(f"{INDEXES_ENV} must be a JSON list of indexes, got {text!r}")
    indexes = []
    for i, entry in enumerate(raw):
        where = f"{INDEXES_ENV}[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"]:
            raise ConfigurationError(f'{where} must be {{"name": ..., "partitionKey": ..., "sortKey"?: ...}}, got {entry!r}')
        sort_key = entry.get("sortKey")
        indexes.append(
            IndexConfig(
                name=entry["name"],
                partition_key=_key_attribute(entry.get("partitionKey"), f"{where}.partitionKey"),
                sort_key=None if sort_key is None else _key_attribute(sort_key, f"{where}.sortKey"),
            )
        )
    return tuple(indexes)
