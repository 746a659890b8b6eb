"""``core.resources.Resource``: answers are built from the model's own fields, no others."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.resources import Contact
from core.resources import ErrorBody, ErrorEnvelope, Page
from tenants.records import Contact as ContactRecord


def test_build_refuses_a_field_the_model_does_not_declare():
    with pytest.raises(TypeError, match="internal"):
        ErrorBody.build(code="NOT_FOUND", message="gone", internal="x")
    with pytest.raises(ValueError, match="too many values"):
        Contact.of_rows([("con_1", True, "Ada", "+1", None, None, "internal")])


def test_build_refuses_a_missing_required_field_and_allows_a_missing_optional_one():
    with pytest.raises(TypeError, match="error"):
        ErrorEnvelope.build(request_id="req_1")
    assert ErrorBody.build(code="NOT_FOUND", message="gone") == {
        "code": "NOT_FOUND",
        "message": "gone",
    }


def test_rows_of_the_models_columns_answer_the_models_fields():
    columns = Contact.columns(ContactRecord.__table__)
    assert [column.name for column in columns] == list(Contact.model_fields)
    created = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    row = ("con_1", True, "Ada", "+442071838750", None, created)
    assert Contact.of_rows([row]) == [
        {
            "id": "con_1",
            "livemode": True,
            "name": "Ada",
            "phone": "+442071838750",
            "email": None,
            "created_at": created,
        }
    ]


def test_a_field_given_once_is_not_selected_and_lands_in_every_answer_in_its_place():
    columns = Contact.columns(ContactRecord.__table__, given=("livemode",))
    assert [column.name for column in columns] == [
        name for name in Contact.model_fields if name != "livemode"
    ]
    of_rows = Contact.rows_given(("livemode",))
    created = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    rows = [("con_2", "Ada", "+442071838750", None, created), ("con_1", "Bo", "+1", "b@c.d", None)]
    answers = of_rows(rows, livemode=False)
    assert [list(answer) for answer in answers] == [list(Contact.model_fields)] * 2
    assert [(answer["id"], answer["livemode"]) for answer in answers] == [
        ("con_2", False),
        ("con_1", False),
    ]
    assert answers[1]["email"] == "b@c.d"
    with pytest.raises(TypeError, match="livemode"):
        of_rows(rows)
    with pytest.raises(TypeError, match="mode"):
        Contact.rows_given(("mode",))


def test_of_reads_the_models_fields_off_an_object():
    record = ContactRecord(
        id="con_1", livemode=True, name="Ada", phone="+1", email="a@b.c", created_at=None
    )
    assert Contact.of(record).keys() == Contact.model_fields.keys()


def test_a_page_is_data_and_next_cursor():
    assert Page.build(data=[], next_cursor=None) == {"data": [], "next_cursor": None}
