"""The JSON Schemas (2020-12, as OpenAPI 3.1 uses) of the management API, generated from the
models that read its requests (`models`) and describe its answers (`answers`): one source.

What the models say is used as is; only pydantic's titles, which are noise in a document read by
people and tools alike, are left out.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .answers import ErrorEnvelope, answer_models
from .body import MAX_BODY_BYTES
from .field_types import METADATA_VALUE_SCHEMA
from .models import request_models

__all__ = ["REF", "component_schemas", "envelope_schemas", "query_parameters"]

Schema = dict[str, Any]
REF = "#/components/schemas/{model}"
_LOCAL_PREFIX = "#/$defs/"
_LOCAL = _LOCAL_PREFIX + "{model}"
_BODY_NOTE = f"At most {MAX_BODY_BYTES // 1024} KiB of JSON."


def component_schemas(environments: tuple[str, ...]) -> dict[str, Schema]:
    requests = request_models(environments)
    answers = answer_models(environments)
    bodies = [requests.create_key, requests.update_key, requests.roll_key]
    models: list[type[BaseModel]] = [*bodies, ErrorEnvelope, *answers.envelopes.values()]
    _, top = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    schemas: dict[str, Schema] = _untitled(top["$defs"])
    for body in bodies:
        schemas[body.__name__]["description"] = _BODY_NOTE
    schemas["MetadataValue"] = METADATA_VALUE_SCHEMA  # what metadata may hold, at any depth
    return schemas


def envelope_schemas(prefix: str) -> dict[str, Schema]:
    """The error envelope's schemas alone, each name (and reference) starting with `prefix`: for
    another app's document, whose own schemas may use the plain names (`Meta`, `ErrorCode`)."""
    ref = "#/components/schemas/" + prefix + "{model}"
    _, top = models_json_schema([(ErrorEnvelope, "validation")], ref_template=ref)
    return {prefix + name: schema for name, schema in _untitled(top["$defs"]).items()}


def query_parameters(model: type[BaseModel]) -> list[Schema]:
    """One OpenAPI query parameter per field of a query model, in the model's words."""
    schema = _untitled(model.model_json_schema(ref_template=_LOCAL))
    defs = schema.get("$defs", {})
    return [
        {
            "name": name,
            "in": "query",
            "required": False,
            "schema": _inline(_not_null(field), defs),
            "description": field.get("description", ""),
        }
        for name, field in schema["properties"].items()
    ]


def _not_null(field: Schema) -> Schema:
    """A query parameter is absent or text, never null: its schema without the null branch
    (and without the `null` default and the description, which the parameter holds)."""
    branches = [b for b in field.get("anyOf", ()) if b != {"type": "null"}]
    held = ("anyOf", "default", "description")
    schema = {k: v for k, v in field.items() if k not in held}
    if len(branches) == 1:
        schema.update(branches[0])
    default = field.get("default")
    return schema if default is None else {**schema, "default": default}


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    """A parameter's schema with its references (enums) written out: parameters stand alone."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith(_LOCAL_PREFIX):
            return _inline(defs[ref.removeprefix(_LOCAL_PREFIX)], defs)
        return {k: _inline(v, defs) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_inline(v, defs) for v in schema]
    return schema


def _untitled(schema: Any) -> Any:
    if isinstance(schema, dict):
        # A field could be called "title" too: that one maps to a schema, not to a string.
        return {
            k: _untitled(v) for k, v in schema.items() if not (k == "title" and isinstance(v, str))
        }
    if isinstance(schema, list):
        return [_untitled(v) for v in schema]
    return schema
