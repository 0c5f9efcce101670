"""The types of a key's usage limits as the management API reads and shows them: `rateLimits`
and `quota`.

The patterns are the API's rule exactly where a pattern can say it: a count from 1 to 10^9 per
a window from 1s to 1d, a refill interval from 1s to 366d. Two rules no schema can state are
said in words and checked by keyguard's own validators: the names of a key's limits are
distinct (a limit alone is named by its canonical text, so `1/m` and `1/60s` collide), and a
count and window must be countable exactly (their least common multiple, the window in ms, at
most 2^53). Errors name the entry (`rateLimits[1]`, `quota.refillInterval`), never the value.

Imported only with `models`, once management routes or their document are built.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    WithJsonSchema,
    model_validator,
)
from pydantic.config import JsonDict
from pydantic_core import PydanticCustomError

from keyguard.core import (
    MAX_QUOTA,
    MAX_RATE_LIMITS,
    RATE_LIMIT_NAME_PATTERN,
    RateLimit,
    ValidationError,
    parse_refill_interval,
    validate_rate_limits,
)

from .restriction_types import at_most

__all__ = [
    "QUOTA_NOTE",
    "RATE_LIMITS_NOTE",
    "RATE_LIMIT_TEXT_PATTERN",
    "REFILL_INTERVAL_PATTERN",
    "EffectiveRateLimitList",
    "QuotaBody",
    "QuotaView",
    "RateLimitList",
    "RateLimitView",
]

_COUNT = "(?:[1-9][0-9]{0,8}|1000000000)"
_WINDOW = (  # 1 to 86400 seconds, 1440 minutes, 24 hours, or a day
    "(?:(?:[1-9][0-9]{0,3}|[1-7][0-9]{4}|8[0-5][0-9]{3}|86[0-3][0-9]{2}|86400)?s"
    "|(?:[1-9][0-9]{0,2}|1[0-3][0-9]{2}|14[0-3][0-9]|1440)?m|(?:[1-9]|1[0-9]|2[0-4])?h|1?d)"
)
RATE_LIMIT_TEXT_PATTERN = f"^{_COUNT}/{_WINDOW}$"
REFILL_INTERVAL_PATTERN = (  # 1s to 366d, the multiplier at most six digits
    "^(?:(?:[1-9][0-9]{0,5})?s"
    "|(?:[1-9][0-9]{0,4}|[1-4][0-9]{5}|5[01][0-9]{4}|52[0-6][0-9]{3}|5270[0-3][0-9]|527040)?m"
    "|(?:[1-9][0-9]{0,2}|[1-7][0-9]{3}|8[0-6][0-9]{2}|87[0-7][0-9]|878[0-4])?h"
    "|(?:[1-9][0-9]?|[12][0-9]{2}|3[0-5][0-9]|36[0-6])?d)$"
)
_NAME_PATTERN = f"^{RATE_LIMIT_NAME_PATTERN.pattern}$"
_TEXT = {"type": "string", "pattern": RATE_LIMIT_TEXT_PATTERN}
_NAME = {"type": "string", "pattern": _NAME_PATTERN}

RATE_LIMITS_NOTE = (
    f"At most {MAX_RATE_LIMITS} limits, each `count/window` (`100/s`, `5000/h`, `500/15m`,"
    " `1000/d`): a count from 1 to 10^9 per a window from 1s to 1d, with a burst of up to the"
    " count; every limit applies. A limit alone is named by its canonical text; as"
    " `{limit, name}` it takes a name (what the RateLimit headers call the policy). Names must"
    " be distinct, and a count and window that cannot be counted exactly (their least common"
    " multiple, the window in ms, over 2^53: a huge odd count per day) are refused. An empty"
    " list: no rate limit. null: the settings' default for the key's access and environment."
)
QUOTA_NOTE = (
    f"An allowance each request spends: `remaining` from 0 to {MAX_QUOTA}. With"
    f" `refillAmount` (1 to {MAX_QUOTA}) and `refillInterval` (from 1s to 366d, e.g. `1d`,"
    " `30d`), given together or not at all, it is set back to at least `refillAmount` every"
    " interval. Setting a quota, even the same one, starts its count over. null: no quota."
)
_EFFECTIVE_NOTE = (
    "The rate limits that apply: the key's own, or else the settings' default for its access"
    " and environment. An empty list: none."
)


def _rate_limit(value: Any) -> RateLimit:
    """One entry, as keyguard reads it; a JSON null name is not a name left out."""
    if isinstance(value, dict) and value.get("name", "") is None:
        raise PydanticCustomError("keyguard", "the name must be a string when given")
    try:
        (limit,) = validate_rate_limits([value])
    except ValidationError as exc:
        raise PydanticCustomError("keyguard", exc.issues[0].message) from None
    return limit


def _distinct(limits: list[RateLimit]) -> list[RateLimit]:
    names = [limit.name for limit in limits]
    if len(set(names)) != len(names):
        raise PydanticCustomError("keyguard", "holds two limits of the same name")
    return limits


RateLimitItem = Annotated[
    RateLimit,
    PlainValidator(_rate_limit),
    WithJsonSchema(
        {
            "anyOf": [
                _TEXT,
                {
                    "type": "object",
                    "properties": {"limit": _TEXT, "name": _NAME},
                    "required": ["limit"],
                    "additionalProperties": False,
                },
            ]
        }
    ),
]
RateLimitList = Annotated[
    list[RateLimitItem],
    Field(max_length=MAX_RATE_LIMITS, json_schema_extra={"uniqueItems": True}),
    at_most(MAX_RATE_LIMITS, "limits"),
    AfterValidator(_distinct),
]


def _whole(low: int, high: int) -> Any:
    def check(value: Any) -> int:
        # JSON Schema's "integer" includes 5.0; bool is an int in Python, not in JSON.
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if type(value) is not int or not low <= value <= high:
            raise PydanticCustomError("keyguard", f"must be a whole number from {low} to {high}")
        return value

    return Annotated[
        int,
        PlainValidator(check),
        WithJsonSchema({"type": "integer", "minimum": low, "maximum": high}),
    ]


def _interval(value: Any) -> str:
    problem = "must be a duration from 1s to 366d, e.g. 1d, 30d, 12h"
    if not isinstance(value, str):
        raise PydanticCustomError("keyguard", problem)
    try:
        parse_refill_interval(value)
    except ValueError:
        raise PydanticCustomError("keyguard", problem) from None
    return value


Interval = Annotated[
    str,
    PlainValidator(_interval),
    WithJsonSchema({"type": "string", "pattern": REFILL_INTERVAL_PATTERN}),
]
_BOTH: JsonDict = {"refillAmount": ["refillInterval"], "refillInterval": ["refillAmount"]}


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class QuotaBody(BaseModel):
    """A quota as a client sets it; `as_input` is what `KeyManager` takes."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        populate_by_name=False,
        json_schema_extra={"dependentRequired": _BOTH},
    )

    remaining: _whole(0, MAX_QUOTA)  # type: ignore[valid-type]
    refill_amount: _whole(1, MAX_QUOTA) = Field(  # type: ignore[valid-type]
        None, alias="refillAmount", json_schema_extra=_no_default
    )
    refill_interval: Interval = Field(
        None,  # type: ignore[assignment]
        alias="refillInterval",
        json_schema_extra=_no_default,
    )

    @model_validator(mode="after")
    def _refill_whole(self) -> QuotaBody:
        if (self.refill_amount is None) != (self.refill_interval is None):
            raise PydanticCustomError(
                "keyguard", "refillAmount and refillInterval are given together, or neither"
            )
        return self

    def as_input(self) -> dict[str, Any]:
        return {
            "remaining": self.remaining,
            "refillAmount": self.refill_amount,
            "refillInterval": self.refill_interval,
        }


class _Shown(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RateLimitView(_Shown):
    limit: str = Field(pattern=RATE_LIMIT_TEXT_PATTERN)
    name: str = Field(pattern=_NAME_PATTERN)


EffectiveRateLimitList = Annotated[
    list[RateLimitView], Field(max_length=MAX_RATE_LIMITS, description=_EFFECTIVE_NOTE)
]


class QuotaView(_Shown):
    remaining: int = Field(
        ge=0, le=MAX_QUOTA, description="The stored allowance, with a refill that is due done."
    )
    refill_amount: int | None = Field(alias="refillAmount")
    refill_interval: str | None = Field(alias="refillInterval")
    next_refill_at: datetime | None = Field(
        alias="nextRefillAt", description="When it is next refilled; null: it never is."
    )
