"""Response shapes: one pydantic model per resource, for the answer and for its documentation.

Each ``Resource`` subclass is the single statement of an object's shape. The OpenAPI builder
(``core.openapi``) documents it from the model's JSON schema, and the views shape their
answers through the same class:

- ``Model.of(obj)``: the answer for an object whose attributes carry the fields (an ORM
  object); a model whose fields are named otherwise in the store overrides ``of``;
- ``Model.of_rows(rows)``: the answers for rows of ``Model.columns(table)``, the table's
  columns named like the fields, in their order (lists read straight from the table);
- ``Model.build(**fields)``: the answer from values at hand; a name the model does not
  declare, or a required one missing, is a ``TypeError`` (a drift the tests also catch).

The answers are plain dicts that ``core.jsonprovider`` encodes with orjson. Data read back
from our own store is trusted, so output is built without validation: the models validate
client input (``api/schemas.py``, ``console/schemas.py``), not our own rows. A datetime stays
a datetime up to the encoder, which writes it as ``isoformat`` does (RFC 3339, ``+00:00``).
The tests validate every documented answer against its model
(``tests/core/test_resources.py``). Why dicts rather than model instances, in figures:
``docs/performance.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import Column, Table

from tenants.usage import Outcome

Item = TypeVar("Item")


class Resource(BaseModel):
    """A response shape. Subclasses declare fields; the class methods build answers."""

    field_names: ClassVar[tuple[str, ...]] = ()
    build: ClassVar[Callable[..., dict[str, Any]]]
    of_rows: ClassVar[Callable[[Iterable[Sequence[Any]]], list[dict[str, Any]]]]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.field_names = tuple(cls.model_fields)
        optional = tuple(n for n, field in cls.model_fields.items() if not field.is_required())
        cls.build = staticmethod(_builder(cls.__name__, cls.field_names, optional))
        cls.of_rows = staticmethod(_rows_builder(cls.__name__, cls.field_names))

    @classmethod
    def of(cls, obj: Any) -> dict[str, Any]:
        return {name: getattr(obj, name) for name in cls.field_names}

    @classmethod
    def columns(cls, table: Table, given: tuple[str, ...] = ()) -> tuple[Column[Any], ...]:
        """The columns of ``table`` that ``of_rows`` reads, named and ordered like the fields
        (but for the fields ``given``, see ``rows_given``)."""
        return tuple(table.c[name] for name in cls.field_names if name not in given)

    @classmethod
    def rows_given(cls, given: tuple[str, ...]) -> Callable[..., list[dict[str, Any]]]:
        """``of_rows`` for rows of ``columns(table, given)``: the fields ``given`` are the same
        in every row (``livemode`` is the key's, by the query's own filter), so they are not
        selected per row but passed once by name: ``rows_given(("livemode",))(rows,
        livemode=True)``. Build it once, at import."""
        unknown = set(given) - set(cls.field_names)
        if unknown:
            raise TypeError(f"{cls.__name__} has no fields {sorted(unknown)}")
        return _rows_builder(cls.__name__, cls.field_names, given)


# ``build`` and ``of_rows`` are written out per model from its field names, as ``dataclasses``
# writes ``__init__``: a dict display costs a fraction of ``dict(zip(names, row))`` or of a
# checking loop, and Python's own argument binding refuses an unknown or missing field of
# ``build``. The names are the model's field names (identifiers), never outside text.
_ABSENT: Any = object()


def _builder(
    model: str, names: tuple[str, ...], optional: tuple[str, ...]
) -> Callable[..., dict[str, Any]]:
    """``build(*, a, b, c=absent)``: the answer with every field given; a field with a
    default in the model is left out of the answer unless given."""
    required = [name for name in names if name not in optional]
    parameters = ", ".join([*required, *(f"{name}=_ABSENT" for name in optional)])
    lines = [
        f"def build(*, {parameters}):" if names else "def build():",
        f"    answer = {{{', '.join(f'{name!r}: {name}' for name in required)}}}",
        *(f"    if {name} is not _ABSENT: answer[{name!r}] = {name}" for name in optional),
        "    return answer",
    ]
    return _compile(model, "build", "\n".join(lines))


def _rows_builder(
    model: str, names: tuple[str, ...], given: tuple[str, ...] = ()
) -> Callable[..., list[dict[str, Any]]]:
    """``of_rows(rows, *given)``: one answer per row of ``columns(table, given)``, the fields
    ``given`` taken from the keyword arguments of that name."""
    selected = [name for name in names if name not in given]
    values = {name: f"_{index}" for index, name in enumerate(selected)}
    # A given field is its own parameter; the row's values are ``_0``, ``_1``...
    display = ", ".join(f"{name!r}: {values.get(name, name)}" for name in names)
    unpack = f"{', '.join(values.values())}," if selected else "_"
    parameters = "".join(f", {name}" for name in given)
    star = ", *" if given else ""
    return _compile(
        model,
        "of_rows",
        f"def of_rows(rows{star}{parameters}):\n    return [{{{display}}} for {unpack} in rows]",
    )


def _compile(model: str, name: str, source: str) -> Callable[..., Any]:
    namespace: dict[str, Any] = {"_ABSENT": _ABSENT}
    exec(compile(source, f"<{model}.{name}>", "exec"), namespace)  # noqa: S102 (see above)
    function: Callable[..., Any] = namespace[name]
    function.__qualname__ = f"{model}.{name}"
    return function


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
    outcome: Outcome | None = None
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
