"""What the management API answers, described as types for its OpenAPI document. The answers
themselves are made by `keyguard.core`'s views; a test holds every view to its model here, so
the document cannot drift from what is sent.

Every object is closed (`additionalProperties: false`): an answer with a field the document
does not name is a bug.
"""

import functools
from datetime import datetime
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, create_model

from keyguard.core import AuditEventType, ErrorCode

from .field_types import AccessName, KeyId
from .restriction_types import (
    NETWORKS_NOTE,
    ORIGINS_NOTE,
    PERMISSIONS_NOTE,
    NetworkList,
    OriginList,
    PermissionList,
    UsableFrom,
)
from .usage_types import (
    QUOTA_NOTE,
    RATE_LIMITS_NOTE,
    EffectiveRateLimitList,
    QuotaView,
    RateLimitView,
)

__all__ = ["AnswerModels", "answer_models"]

Status = Literal["active", "revoked", "expired"]  # a test holds it to `KeyStatus`


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Meta(_Closed):
    request_id: str = Field(alias="requestId")
    timestamp: datetime
    next_cursor: str | None = Field(None, alias="nextCursor", description="Pass as `cursor`.")


class ErrorDetail(_Closed):
    field: str
    message: str


class ErrorBody(_Closed):
    code: ErrorCode
    message: str
    details: list[ErrorDetail] | None = None


class AuditEntry(_Closed):
    id: str
    event: AuditEventType
    key_id: str | None = Field(alias="keyId")
    environment: str | None = Field(description="The environment of the key it concerns.")
    actor: str = Field(description="Who made the change: a key's id, or `person:<name>`.")
    request_id: str | None = Field(alias="requestId")
    occurred_at: datetime = Field(alias="occurredAt")
    data: dict[str, Any]


class DeletedAPIKey(_Closed):
    id: KeyId
    deleted: Literal[True]


class ErrorEnvelope(_Closed):
    data: None
    error: ErrorBody
    meta: Meta


class AnswerModels(NamedTuple):
    summary: type[BaseModel]
    detail: type[BaseModel]
    created: type[BaseModel]
    deleted: type[DeletedAPIKey]
    audit_entry: type[AuditEntry]
    envelopes: dict[str, type[BaseModel]]  # by the name the document gives each


@functools.cache
def answer_models(environments: tuple[str, ...]) -> AnswerModels:
    summary = _summary(environments)
    detail = create_model(
        "APIKey",
        __base__=summary,
        replaced_by=(str | None, Field(alias="replacedBy", description="The key that rolled it.")),
        metadata=(dict[str, Any], ...),
    )
    created = create_model(
        "CreatedAPIKey", __base__=detail, value=(str, Field(description="Shown this once only."))
    )
    data = {
        "APIKeyList": list[summary],  # type: ignore[valid-type]
        "APIKeyEnvelope": detail,
        "CreatedAPIKeyEnvelope": created,
        "DeletedAPIKeyEnvelope": DeletedAPIKey,
        "AuditLog": list[AuditEntry],
    }
    envelopes = {name: _envelope(name, of) for name, of in data.items()}
    return AnswerModels(summary, detail, created, DeletedAPIKey, AuditEntry, envelopes)


def _summary(environments: tuple[str, ...]) -> type[BaseModel]:
    """A key as lists show it; details and the create answer add to it."""
    known = Literal[environments]  # type: ignore[valid-type]
    return create_model(
        "APIKeySummary",
        __base__=_Closed,
        id=(KeyId, ...),
        name=(str, ...),
        prefix=(str, Field(examples=["sk_live_"])),
        last4=(str, Field(min_length=4, max_length=4)),
        environment=(known, ...),
        access=(AccessName, ...),
        status=(Status, ...),
        created_at=(datetime, Field(alias="createdAt")),
        last_used_at=(datetime | None, Field(alias="lastUsedAt")),
        revoked_at=(datetime | None, Field(alias="revokedAt")),
        expires_at=(datetime | None, Field(alias="expiresAt")),
        permissions=(PermissionList | None, Field(description=PERMISSIONS_NOTE)),
        allowed_origins=(
            OriginList | None,
            Field(alias="allowedOrigins", description=ORIGINS_NOTE),
        ),
        allowed_networks=(
            NetworkList | None,
            Field(alias="allowedNetworks", description=NETWORKS_NOTE),
        ),
        usable_from=(UsableFrom, Field(alias="usableFrom")),
        rate_limits=(
            list[RateLimitView] | None,
            Field(alias="rateLimits", max_length=4, description=RATE_LIMITS_NOTE),
        ),
        effective_rate_limits=(EffectiveRateLimitList, Field(alias="effectiveRateLimits")),
        quota=(QuotaView | None, Field(description=QUOTA_NOTE)),
    )


def _envelope(name: str, data: Any) -> type[BaseModel]:
    return create_model(
        name, __base__=_Closed, data=(data, ...), error=(None, ...), meta=(Meta, ...)
    )
