"""Where a part of an item lives in S3 (docs/PROTOCOL.md section 2).

::

    <prefix><enc(partition key value)>/<part>                          table without a sort key
    <prefix><enc(partition key value)>/<enc(sort key value)>/<part>    table with a sort key

``enc`` renders the value (numbers as ECMAScript's ``Number.prototype.toString`` does),
percent-encodes it like ``encodeURIComponent`` and writes ``.`` and ``..`` as ``%2E`` and
``%2E%2E``. Since ``/`` is always encoded, no key value can climb out of its item's prefix or
collide with another item's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import quote, unquote

from ._limits import LIMITS, matches, storable_number
from .config import KeyAttribute, StoreConfig
from .errors import ValidationError
from .models import KeyValue

_UNRESERVED = "-_.!~*'()"
"""What ``encodeURIComponent`` leaves alone besides letters and digits."""


def render_number(value: float) -> str:
    """Renders a number as ECMAScript's ``Number.prototype.toString()`` does (``-0`` as ``0``).

    Python's ``repr`` gives the same shortest round-trip digits; only the layout differs
    (``repr`` writes ``1e-07``, ``100.0`` and ``1e+16`` where ECMAScript writes ``1e-7``,
    ``100`` and ``10000000000000000``).
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    if value < 0:
        return "-" + render_number(-value)
    sign_digits_exponent = Decimal(repr(value)).as_tuple()
    digits = "".join(str(d) for d in sign_digits_exponent.digits)
    exponent = int(sign_digits_exponent.exponent)
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    digits = stripped.lstrip("0")
    k = len(digits)
    n = k + exponent  # value = 0.<digits> x 10^n
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    e = n - 1
    mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"


def number_key(value: object) -> float | None:
    """The IEEE-754 double a number key stands for, or None when ``value`` is not one.

    ``int`` and ``Decimal`` values are accepted only when a double holds them exactly
    (after rendering): a JavaScript client would otherwise address another item. Numbers
    DynamoDB cannot store (a magnitude of 1e126 or more, or below 1e-130 but not 0) are refused.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    try:
        as_float = float(value)
    except (OverflowError, ValueError):
        return None
    if not math.isfinite(as_float) or not storable_number(as_float):
        return None
    if isinstance(value, float):
        return as_float
    if Decimal(render_number(as_float)) != Decimal(value):
        return None
    return as_float


def render_key_value(value: KeyValue) -> str:
    """The key value as a string, before percent-encoding (numbers rendered canonically)."""
    if isinstance(value, str):
        return value
    return render_number(float(value))


def encode_key_value(value: KeyValue) -> str:
    """Encodes one key value as an S3 key segment (``enc`` of docs/PROTOCOL.md section 2.1)."""
    rendered = render_key_value(value)
    if rendered == ".":
        return "%2E"
    if rendered == "..":
        return "%2E%2E"
    return quote(rendered, safe=_UNRESERVED)


def _has_surrogate(value: str) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in value)


def _describe(config: StoreConfig) -> str:
    return " and ".join(
        f'"{a.name}" ({"string" if a.type == "S" else "number"})' for a in config.key_attributes
    )


def _check_value(attribute: KeyAttribute, value: object) -> KeyValue:
    name = attribute.name
    if value is None:
        raise ValidationError(f'key attribute "{name}" is missing')
    if attribute.type == "S":
        if not isinstance(value, str):
            raise ValidationError(
                f'key attribute "{name}" must be a string (DynamoDB type S), got {type(value).__name__} {value!r}'
            )
        if not value:
            raise ValidationError(f'key attribute "{name}" must not be an empty string')
        if _has_surrogate(value):
            raise ValidationError(f'key attribute "{name}" contains an unpaired UTF-16 surrogate')
        return value
    number = number_key(value)
    if number is None:
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            raise ValidationError(
                f'key attribute "{name}" must be a number (DynamoDB type N), got {type(value).__name__} {value!r}'
            )
        raise ValidationError(
            f'key attribute "{name}" must be a finite number that an IEEE-754 double holds exactly and DynamoDB can '
            f"store (0, or a magnitude from 1e-130 to below 1e126), got {value!r}; use another number or a string key"
        )
    return int(number) if number.is_integer() else number


def validate_key(config: StoreConfig, key: object, *, check_length: bool = True) -> dict[str, KeyValue]:
    """Checks an item key against the store and returns it normalized.

    Refuses (:class:`ValidationError`) a key that is not a mapping, lacks a key attribute, has
    another attribute, a value of the wrong type, an empty string or an unpaired surrogate, and
    (with ``check_length``) a key so long that not even a one-character part name fits in an
    S3 key.
    """
    if not isinstance(key, Mapping):
        raise ValidationError(f"the item key must be a mapping with the key attributes {_describe(config)}")
    names = [a.name for a in config.key_attributes]
    for name in key:
        if name not in names:
            raise ValidationError(
                f'unknown key attribute "{name}": the item key has exactly the attributes {_describe(config)}'
            )
    normalized = {a.name: _check_value(a, key.get(a.name)) for a in config.key_attributes}
    if check_length:
        _check_length(config, normalized, _item_prefix(config, normalized) + "x", None)
    return normalized


def validate_part_name(name: object) -> str:
    """Refuses a part name that is not 1 to 63 of ``[a-z0-9_-]``, starting with a letter or digit."""
    if not isinstance(name, str) or not matches(LIMITS.part_name_pattern, name):
        raise ValidationError(
            f"invalid part name {name!r}: a part name is 1 to 63 characters, a lower-case letter or digit "
            "followed by lower-case letters, digits, '_' or '-'"
        )
    return name


def _item_prefix(config: StoreConfig, key: Mapping[str, KeyValue]) -> str:
    return config.key_prefix + "".join(encode_key_value(key[a.name]) + "/" for a in config.key_attributes)


def item_prefix(config: StoreConfig, key: object) -> str:
    """The S3 key prefix of an item, ending with ``/``."""
    return _item_prefix(config, validate_key(config, key, check_length=False))


def _check_length(config: StoreConfig, key: Mapping[str, KeyValue], s3_key: str, part: str | None) -> None:
    size = len(s3_key.encode("utf-8"))
    limit = LIMITS.max_s3_key_bytes
    if size <= limit:
        return
    sizes = ", ".join(
        f'"{a.name}" encodes to {len(encode_key_value(key[a.name]).encode("utf-8"))} bytes'
        for a in config.key_attributes
    )
    what = "the shortest part key of this item" if part is None else f'the S3 key of part "{part}"'
    raise ValidationError(
        f"key too long: {what} would be {size} bytes (UTF-8), over S3's limit of {limit} bytes "
        f'(key attribute {sizes}; prefix "{config.key_prefix}"); shorten the key value'
        + ("" if part is None else " or the part name")
    )


def part_key(config: StoreConfig, key: object, part: object) -> str:
    """The S3 key of one part of an item; validates the key, the part name and S3's length limit."""
    normalized = validate_key(config, key, check_length=False)
    name = validate_part_name(part)
    s3_key = _item_prefix(config, normalized) + name
    _check_length(config, normalized, s3_key, name)
    return s3_key


@dataclass(frozen=True)
class ParsedPartKey:
    """An S3 key split back into the item key and the part name."""

    key: dict[str, KeyValue]
    part: str


def _decode_segment(attribute: KeyAttribute, segment: str) -> KeyValue | None:
    if not segment:
        return None
    try:
        rendered = unquote(segment, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        return None
    if not rendered:
        return None
    value: KeyValue
    if attribute.type == "N":
        try:
            number = float(rendered)
        except ValueError:
            return None
        if not math.isfinite(number):
            return None
        value = int(number) if number.is_integer() else number
    else:
        if _has_surrogate(rendered):
            return None
        value = rendered
    # Only the canonical encoding of a key is a part key: anything else no writer produced.
    return value if encode_key_value(value) == segment else None


def parse_part_key(config: StoreConfig, s3_key: str) -> ParsedPartKey | None:
    """Splits an S3 key into item key and part name; None when it is not the canonical part key
    of an item of this store (docs/PROTOCOL.md section 2.4)."""
    if not s3_key.startswith(config.key_prefix):
        return None
    segments = s3_key[len(config.key_prefix):].split("/")
    attributes = config.key_attributes
    if len(segments) != len(attributes) + 1:
        return None
    part = segments[-1]
    if not matches(LIMITS.part_name_pattern, part):
        return None
    key: dict[str, KeyValue] = {}
    for attribute, segment in zip(attributes, segments):
        value = _decode_segment(attribute, segment)
        if value is None:
            return None
        key[attribute.name] = value
    if len(s3_key.encode("utf-8", errors="surrogatepass")) > LIMITS.max_s3_key_bytes:
        return None
    return ParsedPartKey(key, part)
