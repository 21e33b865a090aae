"""List cursors (docs/PROTOCOL.md section 7): base64url (no padding) of the JSON of DynamoDB's
``LastEvaluatedKey`` in attribute-value form."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ._limits import LIMITS
from .codec import AttributeValue
from .config import KeyAttribute
from .errors import ValidationError

_BASE64URL = re.compile("[A-Za-z0-9_-]+")
_NUMBER = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
"""A DynamoDB number: decimal digits, an optional fraction and exponent; no hex, no spaces."""


def encode_cursor(last_evaluated_key: Mapping[str, AttributeValue]) -> str:
    """The opaque cursor of a ``LastEvaluatedKey``."""
    text = json.dumps(last_evaluated_key, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def _malformed(why: str) -> ValidationError:
    return ValidationError(f"malformed cursor ({why}): pass back the cursor of the previous page unchanged")


def _is_number(text: str) -> bool:
    return _NUMBER.fullmatch(text) is not None


def decode_cursor(
    cursor: object,
    allowed: Iterable[KeyAttribute],
    required: Iterable[KeyAttribute],
) -> dict[str, AttributeValue]:
    """The ``ExclusiveStartKey`` of a cursor. Only the given key attributes are allowed, each a
    non-empty ``S`` or a finite ``N`` of its type, and every ``required`` one must be there;
    anything else is a :class:`ValidationError`."""
    if (
        not isinstance(cursor, str)
        or not cursor
        or len(cursor) > LIMITS.max_cursor_length
        or _BASE64URL.fullmatch(cursor) is None
        or len(cursor) % 4 == 1
    ):
        raise _malformed("not a base64url string")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        parsed: Any = json.loads(raw.decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _malformed("not JSON") from None
    if not isinstance(parsed, dict):
        raise _malformed("not an object")
    by_name = {a.name: a for a in allowed}
    out: dict[str, AttributeValue] = {}
    for name, value in parsed.items():
        attribute = by_name.get(name)
        if attribute is None:
            raise _malformed(f'unexpected attribute "{name}"')
        if not isinstance(value, dict) or len(value) != 1:
            raise _malformed(f'bad value of "{name}"')
        text = value.get(attribute.type)
        if not isinstance(text, str) or not text or (attribute.type == "N" and not _is_number(text)):
            raise _malformed(f'bad value of "{name}"')
        out[name] = {attribute.type: text}
    for attribute in required:
        if attribute.name not in out:
            raise _malformed(f'missing key attribute "{attribute.name}"')
    return out
