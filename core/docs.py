"""``/docs``: the API reference for integrators, one HTML page rendered on the server.

The page is Markdown: a hand-written guide (``docs_static/guide.md``: authentication,
requests, the error table) followed by one section per resource, written from the
application's own OpenAPI documents, with a curl example and a sample answer for every
operation. markdown-it-py renders it once per process (the first request builds it and it is
kept), with raw HTML disabled, so no text of a document can become markup. Every heading has
an anchor, and a table of contents links them. No script, no CDN: it reads offline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any, cast

from flask import Blueprint, Response, current_app, send_from_directory
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from core.extensions import security_headers
from core.headers import DOCS_CSP

STATIC = Path(__file__).with_name("docs_static")
HOST = "$LOOPWAVE_URL"
RENDERED = "loopwave.docs.rendered"
# (document view, title, [(path segment, section title, what it is)]) in reading order.
DOCUMENTS = (
    (
        "api.openapi_document",
        "Tenant API",
        [
            ("health", "Key check", "Which organization and key a key belongs to."),
            ("messages", "Messages", "Send a text message to a phone number."),
            ("chats", "Chats", "Conversations with your contacts and their messages."),
            ("contacts", "Contacts", "The people you message."),
            ("tickets", "Tickets", "Support requests, optionally tied to a contact."),
            ("broadcasts", "Broadcasts", "One message to many contacts at once."),
            ("usage", "Usage", "Requests per key and day."),
            ("openapi.json", "OpenAPI document", "This reference, machine-readable."),
        ],
    ),
    (
        "console.openapi_document",
        "Console API",
        [
            ("me", "Session", "The signed-in dashboard user. Console calls take a session token."),
            ("keys", "API keys", "Create, change, rotate and revoke keys."),
            (
                "audit-log",
                "Audit log",
                "Every change to the organization's keys, webhooks and settings.",
            ),
            ("usage", "Console usage", "Requests per key and day."),
            ("events", "Events", "What happened to the organization's keys, license and webhooks."),
            (
                "webhooks",
                "Webhooks",
                "Endpoints that receive the events, signed (Standard Webhooks); their deliveries.",
            ),
            ("alerts", "Alerts", "Leaked and decoy keys, shown until someone acknowledges them."),
            ("settings", "Settings", "What Loopwave does when a key is reported leaked."),
            ("license", "License", "The organization's license."),
            (
                "openapi.json",
                "Console OpenAPI document",
                "The console reference, machine-readable.",
            ),
        ],
    ),
)
ID_PREFIXES = {
    "key": "key", "contact": "con", "chat": "cht", "message": "msg", "ticket": "tkt",
    "broadcast": "brd", "tenant": "ten", "audit": "aud",
}  # fmt: skip

bp = Blueprint("docs", __name__)
# The security headers, a strict CSP among them, of every response of /docs (core.headers).
security_headers.use_page_policy(bp, DOCS_CSP)


def _send(name: str) -> Response:
    return send_from_directory(STATIC, name, max_age=300)


@bp.get("/docs")
def page() -> tuple[str, int, dict[str, str]]:
    html: str | None = current_app.extensions.get(RENDERED)
    if html is None:
        html = current_app.extensions[RENDERED] = render_page()
    return (
        html,
        200,
        {
            "Content-Type": "text/html; charset=utf-8",
            "Cache-Control": "public, max-age=300",
        },
    )


@bp.get("/docs/<any('docs.css'):asset>")
def asset(asset: str) -> Response:
    return _send(asset)


# --- the Markdown -------------------------------------------------------------------------


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def operation_anchor(method: str, path: str) -> str:
    """A stable link for an operation: ``#post-api-v1-contacts``."""
    return slug(f"{method} {path.replace('{', '').replace('}', '')}")


def reference_markdown(
    documents: dict[str, dict[str, Any]], anchors: list[str] | None = None
) -> str:
    """The guide, then every operation of every document grouped by resource.

    ``anchors`` receives each operation's anchor, in the order of the operations' headings.
    """
    anchors = [] if anchors is None else anchors
    parts = [(STATIC / "guide.md").read_text(encoding="utf-8")]
    for view, title, groups in DOCUMENTS:
        spec = documents[view]
        parts.append(f"## {title}\n")
        if spec.get("info", {}).get("description"):
            parts.append(spec["info"]["description"] + "\n")
        operations = _operations(spec)
        for segment, group_title, blurb in groups:
            members = [op for op in operations if op[2] == segment]
            if not members:
                continue
            parts.append(f"### {group_title}\n\n{blurb}\n")
            for method, path, _segment, operation in members:
                anchors.append(operation_anchor(method, path))
                parts.append(_operation_markdown(spec, method, path, operation, title))
        leftover = [op for op in operations if op[2] not in {g[0] for g in groups}]
        for method, path, _segment, operation in leftover:
            anchors.append(operation_anchor(method, path))
            parts.append(_operation_markdown(spec, method, path, operation, title))
    return "\n".join(parts)


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    found = []
    for path, methods in spec["paths"].items():
        segments = [s for s in path.split("/") if s and s not in ("api", "v1", "console")]
        for method, operation in methods.items():
            found.append((method.upper(), path, segments[0] if segments else "", operation))
    return found


def _operation_markdown(
    spec: dict[str, Any], method: str, path: str, operation: dict[str, Any], api: str
) -> str:
    summary = operation.get("summary") or operation.get("operationId", path)
    link = operation_anchor(method, path)
    lines = [f"#### {summary}\n", f"`{method} {path}` · [link](#{link})\n"]
    scope = operation.get("x-required-scope")
    role = operation.get("x-required-role")
    if scope:
        lines.append(f"Needs a key with the `{scope}` scope.\n")
    elif role:
        lines.append(f"Needs a session of an organization **{role}**.\n")
    elif not operation.get("security", [{}]):
        lines.append("Public: no credentials.\n")
    params = [p for p in operation.get("parameters", []) if p.get("in") in ("query", "path")]
    if params:
        lines.append("| Parameter | In | Type | Notes |\n|---|---|---|---|")
        for param in params:
            schema = param.get("schema", {})
            notes = _constraints(schema) or param.get("description", "")
            lines.append(f"| `{param['name']}` | {param['in']} | {_type(spec, schema)} | {notes} |")
        lines.append("")
    body_schema = _json_schema(operation.get("requestBody", {}))
    body = _sample(spec, body_schema) if body_schema else None
    if body_schema:
        lines.append("| Field | Type | Notes |\n|---|---|---|")
        resolved = _resolve(spec, body_schema)
        required = set(resolved.get("required", []))
        for name, schema in resolved.get("properties", {}).items():
            notes = ("required" if name in required else "optional") + (
                f"; {_constraints(_resolve(spec, schema))}"
                if _constraints(_resolve(spec, schema))
                else ""
            )
            lines.append(f"| `{name}` | {_type(spec, schema)} | {notes} |")
        lines.append("")
    lines.append("**Request**\n")
    lines.append("```bash\n" + _curl(spec, method, path, operation, body, api) + "\n```\n")
    status, answer_schema = _success(operation)
    lines.append(f"**Answer** `{status}`\n")
    answer = _sample(spec, answer_schema) if answer_schema else None
    text = json.dumps(answer, indent=2) if answer is not None else "(no body)"
    lines.append("```json\n" + text + "\n```\n")
    errors = [code for code in operation.get("responses", {}) if code.startswith(("4", "5"))]
    if errors:
        lines.append(
            "Errors: " + ", ".join(f"`{code}`" for code in errors) + " ([codes](#errors))\n"
        )
    return "\n".join(lines)


def _curl(
    spec: dict[str, Any], method: str, path: str, operation: dict[str, Any], body: Any, api: str
) -> str:
    url = path
    for param in operation.get("parameters", []):
        if param.get("in") == "path":
            url = url.replace("{" + param["name"] + "}", _example_id(param["name"]))
    command = ["curl"] if method == "GET" else [f"curl -X {method}"]
    command[0] += f' "{HOST}{url}"'
    security = operation.get("security", [{}])
    if security and security != [{}] and any(security):
        if api == "Tenant API":
            command.append('-H "x-tenant-api-key: $LOOPWAVE_KEY"')
        else:
            command.append('-H "Authorization: Bearer $SESSION_TOKEN"')
    if body is not None:
        command.append('-H "Content-Type: application/json"')
        command.append("-d '" + json.dumps(body).replace("'", "'\\''") + "'")
    return " \\\n  ".join(command)


def _json_schema(holder: dict[str, Any]) -> dict[str, Any] | None:
    schema: dict[str, Any] | None = (
        holder.get("content", {}).get("application/json", {}).get("schema")
    )
    return schema


def _success(operation: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    for status, response in operation.get("responses", {}).items():
        if status.startswith("2"):
            return status, _json_schema(response)
    return "200", None


def _resolve(spec: dict[str, Any], schema: dict[str, Any] | None) -> dict[str, Any]:
    seen = 0
    while schema and "$ref" in schema and seen < 10:
        schema = spec["components"]["schemas"][schema["$ref"].split("/")[-1]]
        seen += 1
    return schema or {}


def _type(spec: dict[str, Any], schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name: str = schema["$ref"].split("/")[-1]
        return name
    if "anyOf" in schema:
        return " or ".join(_type(spec, s) for s in schema["anyOf"])
    if "enum" in schema:
        return " / ".join(f"`{v}`" for v in schema["enum"])
    if schema.get("type") == "array":
        return f"list of {_type(spec, schema.get('items', {}))}"
    if schema.get("format"):
        return f"{schema.get('type', 'string')} ({schema['format']})"
    return str(schema.get("type", "object"))


def _constraints(schema: dict[str, Any]) -> str:
    if "anyOf" in schema:
        schema = next((s for s in schema["anyOf"] if s.get("type") != "null"), {})
    names = {
        "minLength": "at least {} characters", "maxLength": "at most {} characters",
        "minimum": "from {}", "maximum": "to {}", "minItems": "at least {} items",
        "maxItems": "at most {} items", "default": "default {}",
    }  # fmt: skip
    if schema.get("minLength") == 1:
        names["minLength"] = "not empty"
    return ", ".join(text.format(schema[key]) for key, text in names.items() if key in schema)


def _example_id(name: str) -> str:
    prefix = ID_PREFIXES.get(name.removesuffix("_id").removesuffix("s"), "obj")
    return f"{prefix}_01JD6Y7QX8M2Z4K9R3V5T0B1NC"


_STRINGS = {
    "phone": "+15551234567", "to": "+15551234567", "email": "ada@example.com",
    "name": "Ada Lovelace", "text": "Your order has shipped.", "subject": "Refund request",
    "body": "The parcel arrived damaged.", "status": "queued", "day": "2026-05-04",
    "request_id": "req_8f3a61c2d0b94e7a9c1d2e3f", "actor": "user_2aXk9", "role": "org:admin",
    "start": "lw_live_4fQp", "last4": "9ZtB", "key_last4": "9ZtB", "key_name": "Production server",
    "key": "lw_live_4fQpXv8Rk2Lm0Nz7Hs5Tg1Wc3Yb9ZtB", "next_cursor": "eyJpZCI6ImNvbl8wMUoifQ",
    "action": "key.created", "issuer": "https://<your identity provider>", "user_id": "user_2aXk9",
    "external_id": "org_2aXk9", "source_ip": "203.0.113.7", "enforcement": "enforce",
    "openapi": "3.1.0", "session_id": "sess_2aXk9",
    "actor_issuer": "https://<your identity provider>",
}  # fmt: skip


def _sample(
    spec: dict[str, Any], schema: dict[str, Any] | None, name: str = "", depth: int = 0
) -> Any:
    if schema is None or depth > 8:
        return None
    if "$ref" in schema:
        return _sample(spec, _resolve(spec, schema), name, depth + 1)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(_resolve(spec, part))
        return _sample(spec, merged, name, depth + 1)
    if "anyOf" in schema:
        options = [s for s in schema["anyOf"] if s.get("type") != "null"]
        if not options or name in ("revoked_at", "next_cursor", "rotated_from_id", "details"):
            return None
        return _sample(spec, options[0], name, depth + 1)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        title = schema.get("title", "")
        return {
            key: _OVERRIDES.get((title, key)) or _sample(spec, value, _named(title, key), depth + 1)
            for key, value in schema.get("properties", {}).items()
        }
    if kind == "array":
        item = _sample(spec, schema.get("items", {}), name.removesuffix("s"), depth + 1)
        return [] if item is None else [item]
    return _scalar(schema, kind, name)


# Values that depend on the object they are in (schema title, field).
_OVERRIDES = {
    ("Health", "status"): "ok",
    ("Ticket", "status"): "open",
    ("Message", "direction"): "outbound",
}
_OWNERS = (
    ("Tenant", "tenant_id"), ("Key", "key_id"), ("Audit", "audit_id"), ("Contact", "contact_id"),
    ("Chat", "chat_id"), ("Message", "message_id"), ("Ticket", "ticket_id"),
    ("Broadcast", "broadcast_id"),
)  # fmt: skip


def _named(title: str, field: str) -> str:
    """An object's own ``id`` is named after the object, so its example has the right prefix."""
    if field != "id":
        return field
    return next((name for part, name in _OWNERS if part in title), "id")


def _scalar(schema: dict[str, Any], kind: str | None, name: str) -> Any:
    if kind == "integer":
        return schema.get(
            "default", max(schema.get("minimum", 0), 3600 if "seconds" in name else 3)
        )
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    if kind != "string":
        return None
    if schema.get("format") == "date-time":
        return "2026-05-04T09:30:00Z"
    if name in ("scopes", "scope"):
        return "contacts:read"
    if name in _STRINGS:
        return _STRINGS[name]
    if name == "id" or name.endswith(("_id", "_ids")):
        return _example_id(name if name != "id" else "obj")
    return _STRINGS.get(name, "string")


# --- the HTML -------------------------------------------------------------------------------


def _markdown() -> MarkdownIt:
    renderer = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    used: dict[str, int] = {}

    def heading_open(
        self: RendererHTML,
        tokens: Sequence[Token],
        index: int,
        options: OptionsDict,
        env: EnvType,
    ) -> str:
        token = tokens[index]
        pending = env.get("anchors") or []
        anchor = (
            pending.pop(0) if token.tag == "h4" and pending else slug(tokens[index + 1].content)
        )
        used[anchor] = used.get(anchor, 0) + 1
        if used[anchor] > 1:
            anchor = f"{anchor}-{used[anchor]}"
        token.attrSet("id", anchor)
        env.setdefault("toc", []).append((int(token.tag[1]), anchor, tokens[index + 1].content))
        return self.renderToken(tokens, index, options, env)

    renderer.add_render_rule("heading_open", heading_open)
    return renderer


def _toc(entries: list[tuple[int, str, str]]) -> str:
    items = []
    for level, anchor, text in entries:
        if level in (2, 3):
            label = re.sub(r"`([^`]*)`", r"\1", text)
            items.append(
                f'<li class="toc-{level}"><a href="#{escape(anchor)}">{escape(label)}</a></li>'
            )
    return (
        '<nav id="docs-toc" class="toc" aria-label="Contents"><p class="toc-title">Contents</p><ul>'
        + "".join(items)
        + "</ul></nav>"
    )


def render_page() -> str:
    documents = {
        view: cast("dict[str, Any]", current_app.view_functions[view]())  # the OpenAPI views
        for view, _t, _g in DOCUMENTS
    }
    anchors: list[str] = []
    text = reference_markdown(documents, anchors)
    env: dict[str, Any] = {"anchors": anchors}
    body = _markdown().render(text, env)
    template = (STATIC / "index.html").read_text(encoding="utf-8")
    return template.replace("{{ toc }}", _toc(env.get("toc", []))).replace("{{ body }}", body)
