"""Opaque cursor pagination over id-ordered (hence creation-ordered) tenant data."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from sqlalchemy import Integer, bindparam
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql import ColumnElement, Select

from tenants.errors import InvalidInput
from tenants.ids import ID_SHAPE
from tenants.models import ID_PREFIX
from tenants.numbers import bounded_int
from tenants.sessions import DbSession

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

AnySelect: TypeAlias = Select[*tuple[Any, ...]]
IdColumn: TypeAlias = QueryableAttribute[str] | ColumnElement[Any]
"""The id column a list is ordered by: a model's attribute, or a table's column."""


@dataclass(frozen=True)
class Page:
    items: Sequence[Any]
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


class PageQuery:
    """The statements of one list's pages, built once, for lists read on every request.

    A statement built per request costs more than running it: every ``where``, ``order_by``
    and ``limit`` call coerces its arguments and copies the statement, and SQLAlchemy then
    walks the new statement to compute the key of its compiled cache. Built once at import
    with bound parameters for what varies (``bindparam`` values for the filter, ``page_limit``
    and ``page_after``), the same statement objects serve every request: SQLAlchemy keeps
    their cache key on the object and finds the compiled form in its cache straight away.
    The SQL and its parameters are those ``paginate`` would build.
    """

    def __init__(self, statement: AnySelect, id_column: IdColumn, newest_first: bool = True):
        self.id_column = id_column
        order = id_column.desc() if newest_first else id_column.asc()
        limit = bindparam("page_limit", type_=Integer)
        after = bindparam("page_after", type_=id_column.type)
        self.first = statement.order_by(order).limit(limit)
        self.after = (
            statement.where(id_column < after if newest_first else id_column > after)
            .order_by(order)
            .limit(limit)
        )


def paginate_query(
    read_rows: Callable[[AnySelect, dict[str, Any]], Sequence[Any]],
    query: PageQuery,
    params: dict[str, Any],
    limit: int,
    cursor: str | None,
) -> Page:
    """``paginate`` of a ``PageQuery`` whose statements select columns: the items are rows.
    ``params``: the values of its own bound parameters; ``read_rows`` runs a statement with
    its parameters and returns all its rows (``core.database.read_rows``)."""
    values = {**params, "page_limit": limit + 1}
    if cursor is None:
        return _page(read_rows(query.first, values), limit)
    values["page_after"] = decode_cursor(cursor, query.id_column.info.get(ID_PREFIX))
    return _page(read_rows(query.after, values), limit)


def _page(found: Sequence[Any], limit: int) -> Page:
    """The page of ``found`` (up to ``limit + 1`` items: one more tells a next page exists)."""
    items = found[:limit]
    next_cursor = encode_cursor(items[-1].id) if len(found) > limit else None
    return Page(items, next_cursor)


def paginate(
    session: DbSession,
    statement: AnySelect,
    id_column: IdColumn,
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
    return _page(result.all() if rows else result.scalars().all(), limit)
