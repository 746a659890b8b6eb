"""``assert_answers``: a JSON answer has exactly the shape of the model that documents it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, get_args

from flask import Flask
from pydantic import BaseModel

from core.openapi import DocumentSpec


def documented_model(app: Flask, spec: DocumentSpec, method: str, path: str) -> type[BaseModel]:
    """The response model that ``spec`` documents for the route serving ``method path``."""
    endpoint, _ = app.url_map.bind("localhost").match(path.partition("?")[0], method)
    return spec.operations[endpoint.partition(".")[2]].response


def assert_answers(model: type[BaseModel], answer: Any) -> None:
    """``answer`` validates against ``model``, and every object in it has the model's keys,
    no more (validation alone would ignore an undocumented key) and no required one fewer."""
    model.model_validate(answer)
    _assert_keys(model, answer, model.__name__)


def _assert_keys(model: type[BaseModel], answer: dict, where: str) -> None:
    fields = model.model_fields
    required = {name for name, field in fields.items() if field.is_required()}
    assert required <= answer.keys() <= fields.keys(), (
        f"{where}: answered {sorted(answer)}, documented {sorted(fields)}"
    )
    for name, field in fields.items():
        for nested in _models_in(field.annotation):
            value = answer.get(name)
            for index, item in enumerate(value if isinstance(value, list) else [value]):
                if isinstance(item, dict):
                    _assert_keys(nested, item, f"{where}.{name}[{index}]")


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for argument in get_args(annotation):
        yield from _models_in(argument)
