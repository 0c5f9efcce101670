"""One source for what the management API reads and what its document says: the views it
answers with fit the models the document is generated from, and the literals written out in
the models are the enums they stand for."""

from __future__ import annotations

import typing
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from keyguard import Access, AuditEvent, AuditEventType, CreatedKey, KeyRecord, KeyStatus
from keyguard.core import (
    Quota,
    RateLimitDefaults,
    audit_view,
    created_view,
    deleted_view,
    detail_view,
    new_id,
    parse_rate_limit,
    summary_view,
)
from keyguard.web import management_openapi
from keyguard.web.management.answers import Status, answer_models
from keyguard.web.management.field_types import AccessName
from keyguard.web.management.models import request_models

ENVIRONMENTS = ("test", "live")
ANSWERS = answer_models(ENVIRONMENTS)
times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
text = st.text(min_size=1, max_size=30)
LIMITS = [parse_rate_limit("100/s"), parse_rate_limit("5000/h"), parse_rate_limit("9/d", "a.b")]
millis = st.integers(0, 4_102_444_800_000)  # to 2100
quotas = st.builds(
    lambda remaining, at, refill: Quota(remaining, refill[0], refill[1], at, at),
    st.integers(0, 10**12),
    millis,
    st.just((None, None))
    | st.tuples(st.integers(1, 10**12), st.integers(1, 366 * 86_400).map(lambda s: s * 1000)),
)
DEFAULTS = RateLimitDefaults({"pk": "100/s,5000/h", "sk_live": "1000/s"}, ENVIRONMENTS)
records = st.builds(
    KeyRecord,
    id=st.builds(lambda: new_id("key_")),
    name=text,
    account=text,
    owner=st.none() | text,
    environment=st.sampled_from(ENVIRONMENTS),
    access=st.sampled_from(Access),
    prefix=text,
    last4=st.text(min_size=4, max_size=4),
    created_at=times,
    last_used_at=st.none() | times,
    revoked_at=st.none() | times,
    expires_at=st.none() | times,
    replaced_by=st.none() | st.builds(lambda: new_id("key_")),
    metadata=st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=3),
    permissions=st.none() | st.frozensets(st.sampled_from(["a:b", "orders:*", "x_1:read"])),
    allowed_origins=st.none()
    | st.lists(
        st.sampled_from(["https://a.com", "http://*.b.example:8080"]), min_size=1, unique=True
    ).map(tuple),
    allowed_networks=st.none()
    | st.lists(st.sampled_from(["10.0.0.0/8", "2001:db8::/32"]), min_size=1, unique=True).map(
        tuple
    ),
    rate_limits=st.none() | st.lists(st.sampled_from(LIMITS), unique=True).map(tuple),
    quota=st.none() | quotas,
)


@given(record=records, now=times, defaults=st.sampled_from([DEFAULTS, RateLimitDefaults({}, ())]))
def test_every_key_view_fits_its_model(
    record: KeyRecord, now: datetime, defaults: RateLimitDefaults
) -> None:
    ANSWERS.summary.model_validate(summary_view(record, now, defaults))
    ANSWERS.detail.model_validate(detail_view(record, now, defaults))
    ANSWERS.created.model_validate(created_view(CreatedKey(record, "sk_test_x"), now, defaults))
    ANSWERS.deleted.model_validate(deleted_view(record.id))


@given(
    event=st.builds(
        AuditEvent,
        id=st.builds(lambda: new_id("evt_")),
        event=st.sampled_from(AuditEventType),
        account=text,
        key_id=st.none() | st.builds(lambda: new_id("key_")),
        actor=text,
        request_id=st.none() | text,
        occurred_at=times,
        data=st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
    )
)
def test_every_audit_view_fits_its_model(event: AuditEvent) -> None:
    ANSWERS.audit_entry.model_validate(audit_view(event))


def test_the_literals_are_the_enums_they_stand_for() -> None:
    assert set(typing.get_args(AccessName)) == {a.value for a in Access}
    assert set(typing.get_args(Status)) == {s.value for s in KeyStatus}


def test_the_document_names_what_the_models_read() -> None:
    """Every field of every request model, and nothing else, is in the document."""
    document = management_openapi(environments=ENVIRONMENTS)
    schemas = document["components"]["schemas"]
    models = request_models(ENVIRONMENTS)
    for model in (models.create_key, models.update_key, models.roll_key):
        fields = {f.alias or name for name, f in model.model_fields.items()}
        assert set(schemas[model.__name__]["properties"]) == fields
        assert schemas[model.__name__]["additionalProperties"] is False
    listing = document["paths"]["/v1/account/api-keys"]["get"]["parameters"]
    assert {p["name"] for p in listing} == set(models.key_list.model_fields)
