"""Opaque cursor pagination over id-ordered (hence creation-ordered) tenant data."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from tenants.errors import InvalidInput
from tenants.ids import ID_SHAPE
from tenants.models import ID_PREFIX
from tenants.numbers import bounded_int

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(f"v1:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str, id_prefix: str | None = None) -> str:
    """The last id of the page before; a 400 for anything else, a cursor of another list (a
    contact's id on the tickets list, say) included: it would only ever give a wrong page."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        version, _, last_id = (
            base64.urlsafe_b64decode(padded.encode("ascii")).decode().partition(":")
        )
    except (ValueError, binascii.Error, UnicodeError) as exc:
        raise InvalidInput("The cursor is not valid", {"field": "cursor"}) from exc
    if version != "v1" or not ID_SHAPE.fullmatch(last_id):
        raise InvalidInput("The cursor is not valid", {"field": "cursor"})
    if id_prefix is not None and not last_id.startswith(f"{id_prefix}_"):
        raise InvalidInput("The cursor belongs to another list", {"field": "cursor"})
    return last_id


def parse_limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    limit = bounded_int(raw, 1, MAX_LIMIT)
    if limit is None:
        raise InvalidInput(f"limit must be an integer from 1 to {MAX_LIMIT}", {"field": "limit"})
    return limit


def paginate(
    session: Session,
    statement: Select,
    id_column,
    limit: int,
    cursor: str | None,
    newest_first: bool = True,
    rows: bool = False,
) -> Page:
    """One page of ``statement`` ordered by ``id_column``, and the cursor of the next.

    ``rows``: ``statement`` selects columns, and the items are its rows (each with an ``id``)
    rather than ORM objects: a page to serialize and forget needs no identity map, no
    instance state and no attribute instrumentation, which are most of the cost of a page.
    """
    if cursor is not None:
        after = decode_cursor(cursor, id_column.info.get(ID_PREFIX))
        statement = statement.where(id_column < after if newest_first else id_column > after)
    order = id_column.desc() if newest_first else id_column.asc()
    result = session.execute(statement.order_by(order).limit(limit + 1))
    found = result.all() if rows else result.scalars().all()
    items = found[:limit]
    next_cursor = encode_cursor(items[-1].id) if len(found) > limit else None
    return Page(items, next_cursor)
