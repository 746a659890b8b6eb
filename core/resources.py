"""Response shapes: one pydantic model per resource, for the answer and for its documentation.

Each ``Resource`` subclass is the single statement of an object's shape. The OpenAPI builder
(``core.openapi``) documents it from the model's JSON schema, and the views shape their
answers through the same class:

- ``Model.of(obj)``: the answer for an object whose attributes carry the fields (an ORM
  object); a model whose fields are named otherwise in the store overrides ``of``;
- ``Model.of_row(row)``: the answer for a row of ``Model.columns(table)``, the table's columns
  named like the fields, in their order (lists read straight from the table);
- ``Model.build(**fields)``: the answer from values at hand; a name the model does not
  declare, or a required one missing, is an error (a drift the tests would also catch).

The answers are plain dicts that ``core.jsonprovider`` encodes with orjson. Data read back
from our own store is trusted, so output is built without validation: the models validate
client input (``api/schemas.py``, ``console/schemas.py``), not our own rows. A datetime stays
a datetime up to the encoder, which writes it as ``isoformat`` does (RFC 3339, ``+00:00``).
The tests validate every documented answer against its model
(``tests/core/test_resources.py``). Why dicts rather than model instances, in figures:
``docs/performance.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import Column, Table

Item = TypeVar("Item")


class Resource(BaseModel):
    """A response shape. Subclasses declare fields; the class methods build answers."""

    field_names: ClassVar[tuple[str, ...]] = ()
    _names: ClassVar[frozenset[str]] = frozenset()
    _required: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.field_names = tuple(cls.model_fields)
        cls._names = frozenset(cls.field_names)
        cls._required = frozenset(
            name for name, field in cls.model_fields.items() if field.is_required()
        )

    @classmethod
    def build(cls, **fields: Any) -> dict[str, Any]:
        names = fields.keys()
        if not (cls._required <= names <= cls._names):
            raise TypeError(
                f"{cls.__name__} answers {sorted(cls._names)}, not {sorted(names)}"
                f" (required: {sorted(cls._required)})"
            )
        return fields

    @classmethod
    def of(cls, obj: Any) -> dict[str, Any]:
        return {name: getattr(obj, name) for name in cls.field_names}

    @classmethod
    def of_row(cls, row: Iterable[Any]) -> dict[str, Any]:
        return dict(zip(cls.field_names, row, strict=True))

    @classmethod
    def columns(cls, table: Table) -> tuple[Column[Any], ...]:
        """The columns of ``table`` that ``of_row`` reads, named and ordered like the fields."""
        return tuple(table.c[name] for name in cls.field_names)


class DataList(Resource, Generic[Item]):
    """The envelope of a whole list: ``{"data": [...]}``."""

    data: list[Item]


class Page(DataList[Item], Generic[Item]):
    """The envelope of one page of a list, every paginated list of both blueprints."""

    next_cursor: str | None


class Tenant(Resource):
    id: str
    name: str


class UsageRow(Resource):
    """Requests of one key, day, endpoint and outcome (SPEC §9.4); ``group_by`` keeps some of
    these dimensions and sums the others away, so a row carries only the kept ones."""

    key_id: str | None = None
    key_name: str | None = None
    key_last4: str | None = Field(
        None, description="The key's last four characters, to tell keys of one name apart"
    )
    mode: Literal["live", "test"]
    day: str | None = Field(None, description="UTC day, YYYY-MM-DD")
    endpoint: str | None = Field(
        None, description="Method and route template, e.g. `POST /api/v1/messages`"
    )
    outcome: (
        Literal[
            "success",
            "client_error",
            "unauthorized",
            "forbidden",
            "rate_limited",
            "license_blocked",
            "server_error",
        ]
        | None
    ) = None
    requests: int


class Usage(DataList[UsageRow]):
    pass


class ErrorBody(Resource):
    code: str
    message: str
    details: dict[str, Any] | None = None


class ErrorEnvelope(Resource):
    """SPEC §4: every error of either blueprint, any status."""

    request_id: str
    error: ErrorBody
