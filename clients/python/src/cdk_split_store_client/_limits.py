"""The protocol's limits and defaults, from the ``limits.json`` this package ships.

The file is the repository's ``protocol/limits.json``, shared with the TypeScript runtime, so
both clients refuse the same inputs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class Limits:
    """Limits and defaults of the protocol and of its reference implementation."""

    max_s3_key_bytes: int
    dynamodb_number_overflow: float
    min_dynamodb_number: float
    max_dynamodb_number_digits: int
    part_name_pattern: re.Pattern[str]
    content_type_pattern: re.Pattern[str]
    max_parts_per_write: int
    max_parts_per_read: int
    max_attributes_per_update: int
    default_key_prefix: str
    default_writer_deadline_ms: int
    default_part_timeout_ms: int
    max_part_timeout_ms: int
    default_list_limit: int
    max_list_limit: int
    max_cursor_length: int
    default_presign_expires_seconds: int
    max_presign_expires_seconds: int
    default_dynamodb_timeout_ms: int
    default_s3_timeout_ms: int
    max_request_timeout_ms: int
    commit_attempts: int
    unconditional_write_rounds: int

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Limits:
        return cls(
            max_s3_key_bytes=int(raw["maxS3KeyBytes"]),
            dynamodb_number_overflow=float(raw["dynamodbNumberOverflow"]),
            min_dynamodb_number=float(raw["minDynamodbNumber"]),
            max_dynamodb_number_digits=int(raw["maxDynamodbNumberDigits"]),
            part_name_pattern=re.compile(raw["partNamePattern"]),
            content_type_pattern=re.compile(raw["contentTypePattern"]),
            max_parts_per_write=int(raw["maxPartsPerWrite"]),
            max_parts_per_read=int(raw["maxPartsPerRead"]),
            max_attributes_per_update=int(raw["maxAttributesPerUpdate"]),
            default_key_prefix=str(raw["defaultKeyPrefix"]),
            default_writer_deadline_ms=int(raw["defaultWriterDeadlineMs"]),
            default_part_timeout_ms=int(raw["defaultPartTimeoutMs"]),
            max_part_timeout_ms=int(raw["maxPartTimeoutMs"]),
            default_list_limit=int(raw["defaultListLimit"]),
            max_list_limit=int(raw["maxListLimit"]),
            max_cursor_length=int(raw["maxCursorLength"]),
            default_presign_expires_seconds=int(raw["defaultPresignExpiresSeconds"]),
            max_presign_expires_seconds=int(raw["maxPresignExpiresSeconds"]),
            default_dynamodb_timeout_ms=int(raw["defaultDynamodbTimeoutMs"]),
            default_s3_timeout_ms=int(raw["defaultS3TimeoutMs"]),
            max_request_timeout_ms=int(raw["maxRequestTimeoutMs"]),
            commit_attempts=int(raw["commitAttempts"]),
            unconditional_write_rounds=int(raw["unconditionalWriteRounds"]),
        )


def _load() -> Limits:
    text = resources.files("cdk_split_store_client").joinpath("limits.json").read_text("utf-8")
    return Limits.from_json(json.loads(text))


LIMITS = _load()
"""The limits in force."""


def storable_number(value: float) -> bool:
    """True for a number DynamoDB can store: 0, or a magnitude from 1e-130 to below 1e126."""
    magnitude = abs(value)
    return magnitude == 0 or LIMITS.min_dynamodb_number <= magnitude < LIMITS.dynamodb_number_overflow


def matches(pattern: re.Pattern[str], value: str) -> bool:
    """True when ``pattern`` matches the whole of ``value`` (``$`` alone would accept a final newline)."""
    return pattern.fullmatch(value) is not None
