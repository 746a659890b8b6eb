"""Flask's JSON, serialised by orjson.

Every answer of the API and console is JSON, and the standard library's encoder was the
largest single cost of a small answer: on ``GET /api/v1/health``, measured in-process, Flask's
default provider spent ~10 us a request building the body, orjson ~1 us. The output keeps
Flask's defaults: keys sorted, compact (indented in debug mode), a trailing newline.

Two deliberate differences from ``flask.json.provider.DefaultJSONProvider``: text outside
ASCII is sent as UTF-8 rather than ``\\uXXXX`` escapes (both are the same JSON, RFC 8259), and
a ``datetime`` that reaches the encoder unconverted becomes RFC 3339 text, like every
timestamp the API sends, not an HTTP date. Parsing stays with the standard library.
"""

from __future__ import annotations

import decimal
import json
from datetime import date
from typing import Any

import orjson
from flask import Flask, Response
from flask.json.provider import JSONProvider


def _default(value: Any) -> Any:
    """Types orjson does not know that Flask's provider converts (and dates, for options
    that only the standard library takes)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if hasattr(value, "__html__"):
        return str(value.__html__())
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def encode(
    obj: Any, *, sort_keys: bool = True, indent: bool = False, newline: bool = False
) -> bytes:
    """``obj`` as JSON: through orjson, or through the standard library, with Flask's
    defaults, for any value orjson refuses (a lone surrogate in a string, an integer past 64
    bits), so nothing that Flask's provider answers fails here. Every JSON answer is built
    here, the middleware's own refusals included."""
    option = orjson.OPT_NON_STR_KEYS
    option |= orjson.OPT_SORT_KEYS if sort_keys else 0
    option |= orjson.OPT_INDENT_2 if indent else 0
    option |= orjson.OPT_APPEND_NEWLINE if newline else 0
    try:
        return orjson.dumps(obj, default=_default, option=option)
    except orjson.JSONEncodeError:
        text = _standard_dumps(obj, sort_keys=sort_keys, indent=2 if indent else None)
        return f"{text}\n".encode() if newline else text.encode()


class OrjsonProvider(JSONProvider):
    """``encode`` for the calls orjson means the same for; the standard library, with
    Flask's defaults, for any other option."""

    mimetype = "application/json"
    _app: Flask  # ``JSONProvider`` declares the sans-IO ``App``; this one serves ``Flask`` apps

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs.keys() <= {"sort_keys", "indent"} and kwargs.get("indent") in (None, 2):
            sort_keys = kwargs.get("sort_keys", True)
            return encode(obj, sort_keys=sort_keys, indent=bool(kwargs.get("indent"))).decode()
        return _standard_dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        # The standard library: orjson reads integers past 64 bits as floats, and no hot
        # path parses JSON through Flask (request bodies: ``core.http.json_body``).
        return json.loads(s, **kwargs)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        body = encode(obj, indent=self._app.debug, newline=True)
        return self._app.response_class(body, mimetype=self.mimetype)


def _standard_dumps(obj: Any, **kwargs: Any) -> str:
    """``json.dumps`` with Flask's defaults (keys sorted, non-ASCII escaped), compact unless
    indented, like the orjson output."""
    kwargs.setdefault("default", _default)
    kwargs.setdefault("sort_keys", True)
    kwargs.setdefault("ensure_ascii", True)
    if kwargs.get("indent") is None:
        kwargs.setdefault("separators", (",", ":"))
    return json.dumps(obj, **kwargs)
