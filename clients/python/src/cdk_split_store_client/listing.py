"""Lists (docs/PROTOCOL.md section 7): index rows only, from DynamoDB; a list never calls S3."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._aws import error_code
from ._limits import LIMITS
from .codec import DELETED_ATTRIBUTE, AttributeValue, LiveRow, decode_state
from .config import KeyAttribute, StoreConfig
from .cursor import decode_cursor, encode_cursor
from .errors import UnavailableError, ValidationError
from .keys import number_key, render_key_value
from .models import KeyValue, Page

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


@dataclass(frozen=True)
class ListRequest:
    """A checked list request: the DynamoDB parameters of its first page."""

    params: dict[str, Any]
    cursor_attributes: tuple[KeyAttribute, ...]

    @classmethod
    def build(
        cls,
        config: StoreConfig,
        partition_value: KeyValue | None,
        index: str | None,
        limit: int | None,
        cursor: str | None,
        ascending: bool,
    ) -> ListRequest:
        page_size = LIMITS.default_list_limit if limit is None else limit
        if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= LIMITS.max_list_limit:
            raise ValidationError(f"limit must be an integer from 1 to {LIMITS.max_list_limit}, got {limit!r}")
        if not isinstance(ascending, bool):
            raise ValidationError(f"ascending must be a boolean, got {ascending!r}")
        partition_key = config.partition_key
        cursor_attributes = list(config.key_attributes)
        # Tombstones are left out. DynamoDB filters after Limit, so a page may hold fewer rows
        # than asked, even none, and still have a cursor.
        params: dict[str, Any] = {
            "TableName": config.table_name,
            "Limit": page_size,
            "FilterExpression": "attribute_not_exists(#del)",
            "ExpressionAttributeNames": {"#del": DELETED_ATTRIBUTE},
        }
        if index is not None:
            found = config.index(index)
            if found is None:
                known = ", ".join(f'"{i.name}"' for i in config.indexes) or "none"
                raise ValidationError(f"unknown index {index!r}; this store's indexes: {known}")
            params["IndexName"] = index
            partition_key = found.partition_key
            cursor_attributes += [found.partition_key] + ([found.sort_key] if found.sort_key else [])
        if partition_value is not None:
            params["KeyConditionExpression"] = "#pk = :pk"
            params["ExpressionAttributeNames"]["#pk"] = partition_key.name
            params["ExpressionAttributeValues"] = {":pk": _key_value(partition_key, partition_value)}
            params["ScanIndexForward"] = ascending
        if cursor is not None:
            decode_cursor(cursor, cursor_attributes, config.key_attributes)  # refused before any request
        return cls(params=params, cursor_attributes=tuple(cursor_attributes))

    @property
    def is_query(self) -> bool:
        return "KeyConditionExpression" in self.params


def _key_value(attribute: KeyAttribute, value: object) -> AttributeValue:
    if attribute.type == "S":
        if not isinstance(value, str) or not value:
            raise ValidationError(f'partition_value for "{attribute.name}" must be a non-empty string, got {value!r}')
        return {"S": value}
    number = number_key(value)
    if number is None:
        raise ValidationError(f'partition_value for "{attribute.name}" must be a finite number, got {value!r}')
    return {"N": render_key_value(number)}


def fetch_page(dynamodb: DynamoDBClient, config: StoreConfig, request: ListRequest, cursor: str | None) -> Page:
    """One page, starting after ``cursor``."""
    params = dict(request.params)
    if cursor is not None:
        params["ExclusiveStartKey"] = decode_cursor(cursor, request.cursor_attributes, config.key_attributes)
    operation = "Query" if request.is_query else "Scan"
    try:
        out: Any = dynamodb.query(**params) if request.is_query else dynamodb.scan(**params)
    except Exception as e:
        raise UnavailableError(f"DynamoDB {operation} failed ({error_code(e)}); retry the request") from e
    last = out.get("LastEvaluatedKey")
    states = [decode_state(config, item) for item in out.get("Items", [])]
    return Page(
        items=[state.row for state in states if isinstance(state, LiveRow)],
        cursor=encode_cursor(last) if last else None,
    )


def pages(dynamodb: DynamoDBClient, config: StoreConfig, request: ListRequest, cursor: str | None) -> Iterator[Page]:
    """Pages from ``cursor`` on, fetched one at a time as the caller iterates."""
    while True:
        page = fetch_page(dynamodb, config, request, cursor)
        yield page
        if page.cursor is None:
            return
        cursor = page.cursor
