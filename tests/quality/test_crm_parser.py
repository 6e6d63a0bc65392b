"""CSV parsing and validation of CRM conversions (koastops.quality.conversions)."""

from __future__ import annotations

import io
from decimal import Decimal

from koastops.quality import conversions as parsing

VOCABULARY = parsing.Vocabulary(
    events={"purchase": "Purchase", "lead": "Lead"}, ad_accounts={"act_1": 7}
)
HEADER = "event,occurred_at,external_id,value,currency,ad_account,campaign\n"


def parse(data: bytes | str):
    if isinstance(data, str):
        data = data.encode()
    state = parsing.ParseState()
    items = list(parsing.parse_csv(io.BytesIO(data), VOCABULARY, state))
    rows = [i for i in items if isinstance(i, parsing.ConversionRow)]
    errors = [i.as_dict() for i in items if isinstance(i, parsing.RowError)]
    return rows, errors, state


def test_valid_rows_are_parsed_with_plan_spelling_and_offsets():
    rows, errors, state = parse(
        HEADER
        + "purchase,2026-11-30T14:05:00+01:00,o-1,49.9,eur,act_1,=SUM(A1)\n"
        + "Lead,2026-11-30T09:12:44Z,l-1,,,,\n"
    )
    assert errors == []
    assert [r.event for r in rows] == ["Purchase", "Lead"]
    assert rows[0].value == Decimal("49.90") and rows[0].currency == "EUR"
    assert rows[0].ad_account_id == 7
    assert rows[0].campaign == "=SUM(A1)"  # stored as text, neutralised on export
    assert rows[0].occurred_at.utcoffset().total_seconds() == 3600
    assert rows[1].value is None and rows[1].row == 3
    assert state.rows_seen == 2


def test_a_bom_is_ignored():
    rows, errors, _ = parse(
        b"\xef\xbb\xbf" + (HEADER + "Lead,2026-11-30T09:12:44Z,l-1,,,,\n").encode()
    )
    assert errors == [] and len(rows) == 1


def test_bad_utf8_names_the_row():
    data = (
        HEADER + "Lead,2026-11-30T09:12:44Z,l-1,,,,\n"
    ).encode() + b"Lead,2026-11-30T09:12:44Z,l-\xff2,,,,\n"
    rows, errors, _ = parse(data)
    assert len(rows) == 1
    assert errors == [
        {
            "row": 3,
            "column": "",
            "message": "This row is not valid UTF-8 text; save the file as UTF-8 (CSV UTF-8).",
        }
    ]


def test_duplicate_and_missing_headers_reject_the_file():
    _, errors, state = parse("event,event,external_id\nLead,Lead,x\n")
    assert {(e["row"], e["column"]) for e in errors} == {(1, "event"), (1, "occurred_at")}
    assert "appears twice" in errors[0]["message"]
    assert state.rows_seen == 0


def test_unknown_headers_are_ignored_and_named():
    rows, errors, state = parse(
        "Event, occurred_at ,external_id,notes\nLead,2026-11-30T09:12:44Z,l-1,hi\n"
    )
    assert errors == [] and len(rows) == 1
    assert state.header.ignored == ["notes"]


def test_naive_times_and_bad_cells_are_errors_by_column():
    _, errors, _ = parse(
        HEADER
        + "Lead,2026-11-30T09:12:44,l-1,,,,\n"
        + "Nope,yesterday,=cmd,-1,EURO,act_9,\n"
        + "Purchase,2026-11-30T09:12:44Z,p-1,10,,,\n"
        + "Purchase,2026-11-30T09:12:44Z,p-2,1.999,EUR,,\n"
    )
    by_cell = {(e["row"], e["column"]): e["message"] for e in errors}
    assert "no time zone" in by_cell[(2, "occurred_at")]
    assert "not an active or deprecated event" in by_cell[(3, "event")]
    assert "not an ISO 8601 time" in by_cell[(3, "occurred_at")]
    assert "formula" in by_cell[(3, "external_id")]
    assert "negative" in by_cell[(3, "value")]
    assert "ISO 4217" in by_cell[(3, "currency")]
    assert "not an ad account" in by_cell[(3, "ad_account")]
    assert "Required when a value" in by_cell[(4, "currency")]
    assert "2 decimals" in by_cell[(5, "value")]


def test_duplicate_external_ids_name_both_rows():
    rows, errors, _ = parse(
        HEADER + "Lead,2026-11-30T09:12:44Z,same,,,,\n" + "Lead,2026-11-30T10:12:44Z,same,,,,\n"
    )
    assert len(rows) == 1
    assert errors[0]["row"] == 3 and errors[0]["column"] == "external_id"
    assert "also on row 2" in errors[0]["message"]


def test_an_empty_file_and_blank_lines():
    _, errors, _ = parse("")
    assert errors[0]["row"] == 1 and "empty" in errors[0]["message"]
    rows, errors, _ = parse(HEADER + "\n\nLead,2026-11-30T09:12:44Z,l-1,,,,\n")
    assert errors == [] and rows[0].row == 4


def test_huge_and_non_finite_values_are_errors():
    _, errors, _ = parse(
        HEADER + "Lead,2026-11-30T09:12:44Z,a,1e30,EUR,,\nLead,2026-11-30T09:12:44Z,b,NaN,EUR,,\n"
    )
    assert [e["column"] for e in errors] == ["value", "value"]


def test_the_template_parses_cleanly():
    text = "".join(parsing.template_lines())
    rows, errors, _ = parse(text)
    assert errors == [] and len(rows) == len(parsing.EXAMPLE_ROWS)
