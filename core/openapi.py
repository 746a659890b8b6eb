"""OpenAPI 3.1 documents built from the routes themselves, so they cannot drift from the code.

What is derived, never restated:
- paths and methods from the app's URL map (a route without a documented operation, or an
  operation without a route, fails ``tests/core/test_openapi.py``);
- request bodies from the pydantic model a view ``@accepts``;
- the scope an operation needs from the view's ``required_scope`` (``require_scope`` sets it),
  the 402 from ``license_gated``, the ``Idempotency-Key`` header and 409 from ``idempotent``,
  the absence of credentials from ``@public``;
- error envelopes and their codes from ``core.errors.STATUS_BY_CODE``.

What each blueprint writes once in its ``openapi.py``: a summary, the success status and the
response model of each operation (a ``core.resources.Resource``, the very class its view
answers through), the schemas of path parameters, its security scheme.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app
from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from core.errors import STATUS_BY_CODE
from core.resources import ErrorEnvelope
from tenants.pagination import MAX_LIMIT

REF = "#/components/schemas/{model}"
_RULE_ARGUMENT = re.compile(r"<(?:[a-z_]+:)?([a-z_]+)>")
REQUEST_ID_SCHEMA = {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,128}$"}
IDEMPOTENCY_KEY_SCHEMA = {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"}
STATUS_TEXT = {
    400: "The request is not valid",
    401: "Missing or invalid credentials",
    402: "The tenant's license is inactive (writes under enforcement)",
    403: "The credentials do not allow this operation",
    404: "No such object for this tenant",
    409: "Conflict with the current state, or an Idempotency-Key reused with another body",
    413: "The body exceeds 1 MiB",
    415: "The body is not application/json",
    429: "Rate limited; retry after Retry-After seconds",
    500: "Internal error (never with a stack trace or a secret)",
    503: "A dependency is unavailable; retry after Retry-After seconds",
}


@dataclass(frozen=True)
class Operation:
    """What a blueprint states about one endpoint; everything else is read off the view."""

    summary: str
    status: int
    response: type[BaseModel]
    description: str = ""
    query: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: tuple[int, ...] = ()


@dataclass(frozen=True)
class DocumentSpec:
    blueprint: str
    title: str
    version: str
    description: str
    scheme_name: str
    scheme: dict[str, Any]
    auth_errors: dict[int, tuple[str, ...]]
    operations: dict[str, Operation]
    path_parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    # What a view requires beyond valid credentials, read off the view (a scope, a role),
    # the extension that names it, and the 403 code of a caller who lacks it.
    requirement: Callable[[Callable[..., Any]], str | None] = lambda view: getattr(
        view, "required_scope", None
    )
    requirement_extension: str = "x-required-scope"
    forbidden_code: str = "AUTH_INSUFFICIENT_SCOPE"


# Pieces both blueprints' documents use.
ID_PATTERN = "^{prefix}_[0-9A-Z]{{26}}$"

PAGE_QUERY: dict[str, dict[str, Any]] = {
    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 50},
    "cursor": {"type": "string", "description": "next_cursor of the previous page"},
}
USAGE_QUERY: dict[str, dict[str, Any]] = {
    "days": {"type": "integer", "minimum": 1, "maximum": 90, "default": 30},
    "group_by": {
        "type": "string",
        "description": "Comma-separated dimensions kept: any of key, day, endpoint, outcome "
        "(default all); the others are summed away",
        "default": "key,day,endpoint,outcome",
    },
}


class OpenApiDocument(BaseModel):
    """This very document."""

    model_config = ConfigDict(extra="allow")
    openapi: str


def openapi_path(rule: str) -> str:
    """Werkzeug's ``/chats/<chat_id>`` as OpenAPI's ``/chats/{chat_id}``."""
    return _RULE_ARGUMENT.sub(r"{\1}", rule)


def document(spec: DocumentSpec) -> dict[str, Any]:
    """The blueprint's document, built once per app: routes do not change after start-up."""
    built: dict[str, dict[str, Any]] = current_app.extensions.setdefault("loopwave.openapi", {})
    if spec.blueprint not in built:
        built[spec.blueprint] = build_document(current_app, spec)
    return built[spec.blueprint]


def build_document(app: Flask, spec: DocumentSpec) -> dict[str, Any]:
    models = _models(app, spec)
    refs, definitions = models_json_schema(
        [(model, mode) for model, mode in models], ref_template=REF
    )
    builder = _Builder(app, spec, {model: refs[(model, mode)] for model, mode in models})
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        blueprint, _, endpoint = rule.endpoint.partition(".")
        if blueprint != spec.blueprint or endpoint not in spec.operations:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(openapi_path(rule.rule), {})[method.lower()] = builder.operation(
                rule.endpoint, rule.arguments, method
            )
    return {
        "openapi": "3.1.0",
        "info": {"title": spec.title, "version": spec.version, "description": spec.description},
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {spec.scheme_name: spec.scheme},
        },
    }


def _models(app: Flask, spec: DocumentSpec) -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [(ErrorEnvelope, "serialization")]
    for endpoint, operation in spec.operations.items():
        models.append((operation.response, "serialization"))
        view = app.view_functions.get(f"{spec.blueprint}.{endpoint}")
        request_model = getattr(view, "request_model", None)
        if request_model is not None:
            models.append((request_model, "validation"))
    return list(dict.fromkeys(models))


class _Builder:
    def __init__(
        self, app: Flask, spec: DocumentSpec, refs: dict[type[BaseModel], dict[str, Any]]
    ) -> None:
        self.app = app
        self.spec = spec
        self.refs = refs

    def operation(self, endpoint: str, arguments: set[str], method: str) -> dict[str, Any]:
        view = self.app.view_functions[endpoint]
        documented = self.spec.operations[endpoint.partition(".")[2]]
        scope = self.spec.requirement(view)
        request_model = getattr(view, "request_model", None)
        idempotent = getattr(view, "idempotent", False)
        operation: dict[str, Any] = {
            "operationId": endpoint.partition(".")[2],
            "summary": documented.summary,
            "parameters": self._parameters(arguments, documented, idempotent),
            "responses": {
                str(documented.status): self._success(documented),
                **self._errors(view, documented, arguments, request_model, idempotent),
            },
        }
        if documented.description:
            operation["description"] = documented.description
        if getattr(view, "public", False):
            operation["security"] = []
        else:
            operation["security"] = [{self.spec.scheme_name: [scope] if scope else []}]
            operation[self.spec.requirement_extension] = scope
        if request_model is not None:
            operation["requestBody"] = {
                "required": getattr(view, "request_body_required", True),
                "content": {"application/json": {"schema": self.refs[request_model]}},
            }
        return operation

    def _parameters(
        self, arguments: set[str], documented: Operation, idempotent: bool
    ) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = [
            {"name": name, "in": "path", "required": True, "schema": self._path_schema(name)}
            for name in sorted(arguments)
        ]
        parameters += [
            {"name": name, "in": "query", "required": False, "schema": schema}
            for name, schema in documented.query.items()
        ]
        if idempotent:
            parameters.append(
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "description": "A retry with the same key and body returns the first answer",
                    "schema": IDEMPOTENCY_KEY_SCHEMA,
                }
            )
        return parameters

    def _path_schema(self, name: str) -> dict[str, Any]:
        if name not in self.spec.path_parameters:
            raise KeyError(f"path parameter {name!r} has no schema in {self.spec.blueprint}")
        return self.spec.path_parameters[name]

    def _success(self, documented: Operation) -> dict[str, Any]:
        return {
            "description": documented.summary,
            "headers": _headers(),
            "content": {"application/json": {"schema": self.refs[documented.response]}},
        }

    def _errors(
        self,
        view: Callable[..., Any],
        documented: Operation,
        arguments: set[str],
        request_model: type[BaseModel] | None,
        idempotent: bool,
    ) -> dict[str, Any]:
        codes: dict[int, set[str]] = {500: {"INTERNAL_ERROR"}, 503: {"SERVICE_UNAVAILABLE"}}

        def add(status: int, *names: str) -> None:
            codes.setdefault(status, set()).update(names or _codes_of(status))

        if not getattr(view, "public", False):
            for status, names in self.spec.auth_errors.items():
                add(status, *names)
            add(429)
        if self.spec.requirement(view):
            add(403, self.spec.forbidden_code)
        if getattr(view, "license_gated", False):
            add(402)
        if request_model is not None:
            for status in (400, 413, 415):
                add(status)
        if documented.query:
            add(400)
        if arguments:
            add(404)
        if idempotent:
            for status in (400, 409):
                add(status)
        for status in documented.errors:
            add(status)
        return {str(status): self._error(status, codes[status]) for status in sorted(codes)}

    def _error(self, status: int, codes: set[str]) -> dict[str, Any]:
        schema = {
            "allOf": [
                self.refs[ErrorEnvelope],
                {"properties": {"error": {"properties": {"code": {"enum": sorted(codes)}}}}},
            ]
        }
        headers = _headers()
        if status in (429, 503):
            headers["Retry-After"] = {"required": status == 429, "schema": {"type": "string"}}
        return {
            "description": STATUS_TEXT[status],
            "headers": headers,
            "content": {"application/json": {"schema": schema}},
        }


def _codes_of(status: int) -> tuple[str, ...]:
    """The generic code of ``status``: the first of ``STATUS_BY_CODE`` with that status."""
    return next((code,) for code, code_status in STATUS_BY_CODE.items() if code_status == status)


def _headers() -> dict[str, Any]:
    return {
        "X-Request-Id": {
            "required": True,
            "description": "Echo of a valid client X-Request-Id, otherwise generated",
            "schema": REQUEST_ID_SCHEMA,
        }
    }


def routes_of(app: Flask, blueprint: str) -> set[tuple[str, str]]:
    """``(METHOD, /openapi/path)`` of every route of ``blueprint``: what a document must cover."""
    return {
        (method, openapi_path(rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.partition(".")[0] == blueprint
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }


def operations_of(document: dict[str, Any]) -> set[tuple[str, str]]:
    """``(METHOD, /path)`` of every operation a document describes."""
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item}
