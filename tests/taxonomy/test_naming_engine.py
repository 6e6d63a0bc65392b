"""The naming-rules engine: plain cases and hypothesis properties. No database, no Django."""

from __future__ import annotations

import copy
import random
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from koastops.taxonomy.naming import (
    BuildError,
    CompiledRule,
    DateToken,
    FreeToken,
    NumberToken,
    Result,
    RuleSpec,
    SpecError,
    VocabularyToken,
    compile_rule,
    parse_spec,
)
from koastops.taxonomy.naming.bench import sample_names, throughput
from koastops.taxonomy.naming.spec import CHARSETS

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CAMPAIGN: dict[str, Any] = {
    "template": "{brand}_{market}_{objective}_{yyyymm}_{free}_{seq}",
    "case": "lower",
    "max_length": 120,
    "tokens": {
        "brand": {
            "kind": "vocabulary",
            "values": [
                {"value": "acme", "label": "Acme Outdoor", "aliases": ["acm", "acme-outdoor"]},
                {"value": "globex", "label": "Globex"},
            ],
        },
        "market": {
            "kind": "vocabulary",
            "values": [{"value": "de", "label": "Germany", "aliases": []}, {"value": "fr"}],
        },
        "objective": {
            "kind": "vocabulary",
            "values": [
                {"value": "lead", "label": "Lead generation", "aliases": ["leads", "leadgen"]},
                {"value": "conv"},
                {"value": "traffic"},
            ],
        },
        "yyyymm": {"kind": "date", "format": "YYYYMM"},
        "free": {"kind": "free", "min_length": 1, "max_length": 30, "charset": "alnum_dash"},
        "seq": {"kind": "number", "min_digits": 1, "max_digits": 3, "min": 1, "max": 999},
    },
}
# Mixed separators, a prefix, upper case, a dotted date and a zero-padded number.
TRACKING: dict[str, Any] = {
    "template": "TRK:{brand}-{day}/{code}|{n}",
    "case": "upper",
    "max_length": 60,
    "tokens": {
        "brand": {"kind": "vocabulary", "values": [{"value": "acme"}, {"value": "Initech"}]},
        "day": {"kind": "date", "format": "YYYY.MM.DD"},
        "code": {"kind": "free", "min_length": 2, "max_length": 8, "charset": "letters"},
        "n": {"kind": "number", "min_digits": 3, "max_digits": 4, "min": 5},
    },
}
# One token and a suffix, any case.
SLUG: dict[str, Any] = {
    "template": "{slug}_v1",
    "case": "any",
    "max_length": 40,
    "tokens": {
        "slug": {"kind": "free", "min_length": 1, "max_length": 30, "charset": "slug"},
    },
}
RULES = {"campaign": CAMPAIGN, "tracking": TRACKING, "slug": SLUG}


def campaign() -> CompiledRule:
    return compile_rule(CAMPAIGN)


def assert_located(result: Result) -> None:
    assert not result.valid
    assert result.errors
    for error in result.errors:
        assert 0 <= error.start <= error.end <= len(result.name)
        assert error.message


def only_error(result: Result) -> Any:
    assert not result.valid, result
    assert len(result.errors) == 1, result.errors
    return result.errors[0]


# --- strategies ------------------------------------------------------------------------


def _recase(text: str, case: str) -> str:
    return text.lower() if case == "lower" else text.upper() if case == "upper" else text


def value_strategy(spec: RuleSpec, name: str) -> st.SearchStrategy[str]:
    token = spec.token(name)
    case = spec.case
    match token:
        case VocabularyToken(values=values):
            return st.sampled_from([_recase(v.value, case) for v in values])
        case DateToken(parts=parts):
            widths = {"YYYY": "%Y", "YY": "%y", "MM": "%m", "DD": "%d"}
            pattern = "".join(widths.get(p, p) for p in parts)
            return st.dates(date(2000, 1, 1), date(2099, 12, 31)).map(lambda d: d.strftime(pattern))
        case FreeToken(min_length=low, max_length=high, charset=charset):
            alphabet = CHARSETS[charset][0]
            return st.text(alphabet, min_size=low, max_size=high).map(lambda t: _recase(t, case))
        case NumberToken(min_digits=low_digits, max_digits=high_digits, minimum=low, maximum=high):
            top = 10**high_digits - 1 if high is None else high
            return st.integers(low or 0, top).map(lambda v: str(v).zfill(low_digits))
    raise AssertionError(token)


@st.composite
def rule_and_values(draw: st.DrawFn) -> tuple[CompiledRule, dict[str, str]]:
    rule = compile_rule(RULES[draw(st.sampled_from(sorted(RULES)))])
    values = {name: draw(value_strategy(rule.spec, name)) for name, _ in rule.spec.tokens}
    return rule, values


def assemble(rule: CompiledRule, values: dict[str, str]) -> str:
    literals = rule.spec.literals
    pieces = [literals[0]]
    for index, (name, _) in enumerate(rule.spec.tokens):
        pieces += [values[name], literals[index + 1]]
    return "".join(pieces)


@st.composite
def near_names(draw: st.DrawFn) -> tuple[CompiledRule, str]:
    """A valid name with a few random edits: the inputs that reach the repair paths."""
    rule, values = draw(rule_and_values())
    name = assemble(rule, values)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(name)))
        edit = draw(st.sampled_from(["insert", "delete", "replace", "swap"]))
        char = draw(st.sampled_from("_-./|: xXaA09é\x00") | st.characters())
        if edit == "insert":
            name = name[:at] + char + name[at:]
        elif edit == "delete":
            name = name[:at] + name[at + 1 :]
        elif edit == "replace":
            name = name[:at] + char + name[at + 1 :]
        elif at + 1 < len(name):
            name = name[:at] + name[at + 1] + name[at] + name[at + 2 :]
    return rule, name


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*prefix, index))
    return found


SPEC_PATHS = [(name, path) for name, rule in RULES.items() for path in _paths(rule)]


@st.composite
def mutated_specs(draw: st.DrawFn) -> object:
    """A valid rule document with one to three of its values replaced by arbitrary JSON."""
    name, _ = draw(st.sampled_from(SPEC_PATHS))
    data = copy.deepcopy(RULES[name])
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(data)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        target = data
        for key in path[:-1]:
            target = target[key]
        if draw(st.booleans()) and isinstance(target, dict):
            del target[path[-1]]
        else:
            target[path[-1]] = draw(json_values)
    return data


# --- properties ------------------------------------------------------------------------


@PROPERTY
@given(rule_and_values())
def test_a_name_built_from_valid_values_validates_and_parses_back(
    case: tuple[CompiledRule, dict[str, str]],
) -> None:
    rule, values = case
    name = assemble(rule, values)
    result = rule.validate(name)
    assert result.valid, result.errors
    assert result.tokens == values
    assert result.errors == ()
    assert result.corrected is None
    assert rule.build(values) == name


@PROPERTY
@given(near_names())
def test_a_near_miss_validates_or_has_located_errors_and_a_valid_correction(
    case: tuple[CompiledRule, str],
) -> None:
    rule, name = case
    result = rule.validate(name)
    # The short failure path (token errors only) answers as the general one would.
    assert rule._slow(name, correct=True) == rule._slow_general(name, correct=True)
    if result.valid:
        assert result.errors == ()
        assert result.corrected is None
    else:
        assert_located(result)
        if result.corrected is not None:
            assert rule.validate(result.corrected).valid
            assert all(error.suggestion is not None for error in result.errors)


@PROPERTY
@given(st.sampled_from(sorted(RULES)), st.text(max_size=200))
def test_any_string_validates_or_has_located_errors(rule_name: str, name: str) -> None:
    result = compile_rule(RULES[rule_name]).validate(name)
    assert result.name == name
    if result.valid:
        assert result.errors == ()
    else:
        assert_located(result)


@PROPERTY
@given(json_values)
def test_parse_spec_on_arbitrary_json_raises_only_spec_error(data: object) -> None:
    with pytest.raises(SpecError) as raised:
        parse_spec(data)
    assert raised.value.errors


@PROPERTY
@given(mutated_specs())
def test_parse_spec_on_mutated_rules_returns_a_spec_or_raises_spec_error(data: object) -> None:
    try:
        spec = parse_spec(data)
    except SpecError as error:
        assert error.errors
        assert all(isinstance(path, str) and message for path, message in error.errors)
    else:
        assert parse_spec(spec.to_data()) == spec
        compile_rule(spec).validate("acme_de_lead_202605_x_1")


@pytest.mark.parametrize(
    "name",
    [
        "",
        "a" * 10_000,
        "_" * 10_000,
        "\x00" * 10_000,
        "acme_de_lead_202605_" + "x" * 10_000 + "_1",
        "_".join(["acme"] * 5_000),
        "".join(random.Random(7).choice("_-.aé\x00😀") for _ in range(10_000)),
        "\ud800_de",
    ],
    ids=["empty", "letters", "separators", "nul", "long-free", "many-parts", "mixed", "surrogate"],
)
@pytest.mark.parametrize("rule_name", sorted(RULES))
def test_hostile_names_return_a_result(rule_name: str, name: str) -> None:
    assert_located(compile_rule(RULES[rule_name]).validate(name))


def test_validate_many_keeps_input_order() -> None:
    names = sample_names(300)
    results = campaign().validate_many(names)
    assert [r.name for r in results] == names
    assert results == [campaign().validate(n) for n in names]


# --- validation: specific cases --------------------------------------------------------


def test_a_valid_name_parses_into_its_tokens() -> None:
    result = campaign().validate("acme_de_lead_202605_spring-sale_7")
    assert result.valid
    assert result.tokens == {
        "brand": "acme",
        "market": "de",
        "objective": "lead",
        "yyyymm": "202605",
        "free": "spring-sale",
        "seq": "7",
    }


def test_an_alias_suggests_its_value() -> None:
    error = only_error(campaign().validate("acme_de_leads_202605_x_1"))
    assert (error.token, error.value, error.suggestion) == ("objective", "leads", "lead")
    assert (error.start, error.end) == (8, 13)
    assert error.expected == "one of lead, conv, traffic"
    assert error.message == "objective: `leads` is not allowed; did you mean `lead`?"
    assert campaign().validate("acme_de_leads_202605_x_1").corrected == "acme_de_lead_202605_x_1"


def test_a_typo_suggests_the_nearest_value() -> None:
    result = campaign().validate("acme_de_laed_202605_x_1")
    error = only_error(result)
    assert error.suggestion == "lead"
    assert "did you mean `lead`" in error.message
    assert result.corrected == "acme_de_lead_202605_x_1"


def test_a_value_far_from_every_value_gets_no_suggestion() -> None:
    result = campaign().validate("acme_de_zzzzzz_202605_x_1")
    error = only_error(result)
    assert error.suggestion is None
    assert (
        error.message == "objective: `zzzzzz` is not allowed; expected one of lead, conv, traffic."
    )
    assert result.corrected is None


def test_an_ambiguous_typo_gets_no_suggestion_and_no_corrected_name() -> None:
    rule = compile_rule(
        {
            "template": "{animal}_{n}",
            "case": "lower",
            "max_length": 20,
            "tokens": {
                "animal": {"kind": "vocabulary", "values": [{"value": "cat"}, {"value": "car"}]},
                "n": {"kind": "number", "max_digits": 2},
            },
        }
    )
    result = rule.validate("caz_1")
    assert only_error(result).suggestion is None
    assert result.corrected is None


def test_a_wrong_separator_is_located_and_corrected() -> None:
    result = campaign().validate("acme_de-lead_202605_x_1")
    error = only_error(result)
    assert (error.token, error.value, error.suggestion) == ("(structure)", "-", "_")
    assert (error.start, error.end) == (7, 8)
    assert result.tokens == {}
    assert result.corrected == "acme_de_lead_202605_x_1"


def test_every_wrong_separator_is_reported() -> None:
    result = campaign().validate("acme.de.lead.202605.x.1")
    assert [e.start for e in result.errors] == [4, 7, 12, 19, 21]
    assert result.corrected == "acme_de_lead_202605_x_1"


def test_a_missing_token_is_named() -> None:
    result = campaign().validate("acme_lead_202605_x_1")
    error = only_error(result)
    assert error.token == "(structure)"
    assert error.message.startswith("market is missing")
    assert (error.start, error.end) == (5, 5)
    assert result.corrected is None


def test_an_extra_part_is_located() -> None:
    result = campaign().validate("acme_de_lead_202605_x_1_extra")
    error = only_error(result)
    assert (error.token, error.value) == ("(structure)", "extra")
    assert (error.start, error.end) == (24, 29)
    assert "extra part" in error.message
    assert result.corrected is None


def test_far_too_few_parts_is_one_structure_error() -> None:
    error = only_error(campaign().validate("nothing_at_all"))
    assert error.token == "(structure)"
    assert error.message == "Expected 6 parts separated by `_`, found 3."


def test_an_empty_name_is_one_structure_error() -> None:
    error = only_error(campaign().validate(""))
    assert (error.token, error.start, error.end) == ("(structure)", 0, 0)


def test_a_month_that_does_not_exist_is_refused() -> None:
    result = campaign().validate("acme_de_lead_202613_x_1")
    error = only_error(result)
    assert (error.token, error.value, error.expected) == ("yyyymm", "202613", "a date YYYYMM")
    assert error.suggestion is None
    assert "month 13" in error.message
    assert result.corrected is None
    # The structure matched: the tokens are still there for the caller to show.
    assert result.tokens["yyyymm"] == "202613"


def test_a_date_in_another_layout_suggests_the_format() -> None:
    result = campaign().validate("acme_de_lead_2026-05_x_1")
    assert only_error(result).suggestion == "202605"
    assert result.corrected == "acme_de_lead_202605_x_1"


def test_day_validity_follows_the_month_and_leap_years() -> None:
    rule = compile_rule(TRACKING)
    assert rule.validate("TRK:ACME-2024.02.29/AB|005").valid
    assert not rule.validate("TRK:ACME-2023.02.29/AB|005").valid
    assert not rule.validate("TRK:ACME-2024.04.31/AB|005").valid
    assert rule.validate("TRK:ACME-2024.2.9/AB|005").corrected == "TRK:ACME-2024.02.09/AB|005"


def test_a_case_error_suggests_the_recased_name() -> None:
    result = campaign().validate("ACME_de_Lead_202605_x_1")
    error = only_error(result)
    assert (error.token, error.expected) == ("(name)", "lower case")
    assert error.suggestion == "acme_de_lead_202605_x_1"
    assert (error.start, error.end) == (0, 9)
    assert result.corrected == "acme_de_lead_202605_x_1"


def test_case_and_alias_errors_are_corrected_together() -> None:
    result = campaign().validate("ACME_DE_LEADS_202605_X_1")
    assert [e.token for e in result.errors] == ["(name)", "objective"]
    assert result.corrected == "acme_de_lead_202605_x_1"


def test_an_upper_case_rule_writes_vocabulary_in_upper_case() -> None:
    rule = compile_rule(TRACKING)
    assert rule.validate("TRK:INITECH-2026.05.01/AB|1234").valid
    result = rule.validate("TRK:initech-2026.05.01/AB|1234")
    assert only_error(result).expected == "upper case"
    assert result.corrected == "TRK:INITECH-2026.05.01/AB|1234"


def test_a_name_over_the_maximum_length_is_one_name_error_without_correction() -> None:
    name = "acme_de_lead_202605_" + "x" * 30 + "_1"
    rule = compile_rule({**CAMPAIGN, "max_length": 40})
    result = rule.validate(name)
    error = only_error(result)
    assert (error.token, error.start, error.end) == ("(name)", 40, len(name))
    assert error.expected == "at most 40 characters"
    assert result.corrected is None


def test_free_text_outside_its_charset_is_located() -> None:
    error = only_error(campaign().validate("acme_de_lead_202605_a b_1"))
    assert (error.token, error.start, error.end) == ("free", 20, 23)
    assert error.expected == "1–30 letters, digits or -"  # noqa: RUF001 - the en dash is the product's


def test_numbers_refuse_leading_zeros_unless_padded_and_respect_their_range() -> None:
    rule = campaign()
    assert not rule.validate("acme_de_lead_202605_x_007").valid
    assert rule.validate("acme_de_lead_202605_x_007").corrected == "acme_de_lead_202605_x_7"
    assert not rule.validate("acme_de_lead_202605_x_0").valid  # min 1
    tracking = compile_rule(TRACKING)
    assert tracking.validate("TRK:ACME-2026.05.01/AB|007").valid
    assert tracking.validate("TRK:ACME-2026.05.01/AB|7").corrected == "TRK:ACME-2026.05.01/AB|007"
    assert not tracking.validate("TRK:ACME-2026.05.01/AB|004").valid  # min 5


def test_prefix_and_suffix_are_checked() -> None:
    tracking = compile_rule(TRACKING)
    result = tracking.validate("TRX:ACME-2026.05.01/AB|123")
    assert only_error(result).token == "(structure)"
    assert result.corrected == "TRK:ACME-2026.05.01/AB|123"
    slug = compile_rule(SLUG)
    assert slug.validate("spring-sale_v1").valid
    # Case "any" checks no case, the template's text included.
    assert slug.validate("spring-sale_V1").valid
    assert slug.validate("Spring-Sale_v1").corrected == "spring-sale_v1"
    assert slug.validate("spring-sale").corrected == "spring-sale_v1"


def test_a_missing_separator_of_a_mixed_template_is_located() -> None:
    result = compile_rule(TRACKING).validate("TRK:ACME-2026.05.01/AB123")
    error = only_error(result)
    assert error.token == "(structure)"
    assert "`|`" in error.message
    assert 0 <= error.start <= error.end <= len(result.name)


# --- build and describe ----------------------------------------------------------------


def test_build_joins_valid_values_in_template_order() -> None:
    values = {
        "brand": "ACME",
        "market": "de",
        "objective": "lead",
        "yyyymm": "202605",
        "free": "spring",
        "seq": "12",
    }
    assert campaign().build(values) == "acme_de_lead_202605_spring_12"


def test_build_refuses_bad_values_with_suggestions() -> None:
    values = {"brand": "acm", "market": "de", "objective": "lead", "yyyymm": "202613", "free": "x"}
    with pytest.raises(BuildError) as raised:
        campaign().build({**values, "nope": "1"})
    errors = {e.token: e for e in raised.value.errors}
    assert errors["brand"].suggestion == "acme"
    assert errors["yyyymm"].suggestion is None
    assert "seq" in errors  # missing
    assert errors["(structure)"].value == "nope"


def test_build_refuses_a_name_over_the_maximum_length() -> None:
    rule = compile_rule({**CAMPAIGN, "max_length": 30})
    values = {
        "brand": "globex",
        "market": "de",
        "objective": "traffic",
        "yyyymm": "202605",
        "free": "x" * 20,
        "seq": "1",
    }
    with pytest.raises(BuildError) as raised:
        rule.build(values)
    assert [e.token for e in raised.value.errors] == ["(name)"]


def test_describe_lists_each_token_for_a_builder_form() -> None:
    info = {i.token: i for i in campaign().describe()}
    assert list(info) == ["brand", "market", "objective", "yyyymm", "free", "seq"]
    assert info["brand"].kind == "vocabulary"
    assert [(c.value, c.label) for c in info["brand"].choices] == [
        ("acme", "Acme Outdoor"),
        ("globex", "Globex"),
    ]
    assert info["yyyymm"].expected == "a date YYYYMM"
    assert info["seq"].expected == "a number of 1–3 digits from 1 to 999"  # noqa: RUF001
    assert info["free"].choices == ()


# --- compile and the spec --------------------------------------------------------------


def test_compile_is_cached_by_the_spec() -> None:
    spec = parse_spec(CAMPAIGN)
    assert compile_rule(spec) is compile_rule(CAMPAIGN)
    assert compile_rule(spec) == compile_rule(copy.deepcopy(CAMPAIGN))
    assert hash(spec) == hash(parse_spec(copy.deepcopy(CAMPAIGN)))


def test_spec_round_trips_through_its_document() -> None:
    for rule in RULES.values():
        spec = parse_spec(rule)
        assert parse_spec(spec.to_data()) == spec


def spec_errors(data: object) -> dict[str, str]:
    with pytest.raises(SpecError) as raised:
        parse_spec(data)
    return dict(raised.value.errors)


def with_token(name: str, token: dict[str, Any], template: str | None = None) -> dict[str, Any]:
    data = copy.deepcopy(CAMPAIGN)
    data["tokens"][name] = token
    if template is not None:
        data["template"] = template
    return data


def test_the_briefs_example_is_refused_for_its_unused_token() -> None:
    data = copy.deepcopy(CAMPAIGN)
    data["template"] = "{brand}_{market}_{objective}_{yyyymm}_{free}"
    assert spec_errors(data) == {"tokens.seq": "is not used in the template"}


def test_spec_errors_are_located() -> None:
    data = copy.deepcopy(CAMPAIGN)
    data["tokens"]["free"]["max_length"] = 500
    data["tokens"]["yyyymm"]["format"] = "YYYYMMM"
    data["case"] = "title"
    errors = spec_errors(data)
    assert set(errors) == {"tokens.free.max_length", "tokens.yyyymm.format", "case"}


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{brand}{market}", "need a separator"),
        ("{brand}_{brand}", "more than once"),
        ("{Brand}", "not a token name"),
        ("{brand", "unclosed"),
        ("brand}", "closes nothing"),
        ("plain", "no token"),
        ("{brand}_{missing}", "has no entry"),
    ],
)
def test_template_problems(template: str, problem: str) -> None:
    data = {"template": template, "case": "any", "max_length": 50, "tokens": {
        "brand": CAMPAIGN["tokens"]["brand"]
    }}  # fmt: skip
    assert problem in " ".join(m for p, m in spec_errors(data).items() if p == "template")


def test_a_vocabulary_value_containing_its_separator_is_refused() -> None:
    data = with_token(
        "market", {"kind": "vocabulary", "values": [{"value": "de"}, {"value": "us_east"}]}
    )
    errors = spec_errors(data)
    assert list(errors) == ["tokens.market.values[1].value"]
    assert "`market`" in errors["tokens.market.values[1].value"]
    assert "`_`" in errors["tokens.market.values[1].value"]


def test_a_free_charset_containing_its_separator_is_refused() -> None:
    data = copy.deepcopy(CAMPAIGN)
    data["template"] = "{brand}_{market}_{objective}_{yyyymm}-{free}_{seq}"
    errors = spec_errors(data)
    assert list(errors) == ["tokens.free.charset"]
    assert "`free`" in errors["tokens.free.charset"]
    assert "`-`" in errors["tokens.free.charset"]


def test_vocabulary_values_and_aliases_are_unique_regardless_of_case() -> None:
    data = with_token(
        "market",
        {"kind": "vocabulary", "values": [{"value": "de"}, {"value": "fr", "aliases": ["DE"]}]},
    )
    assert list(spec_errors(data)) == ["tokens.market.values[1].aliases[0]"]


@pytest.mark.parametrize(
    ("fmt", "valid"),
    [
        ("YYYYMM", True),
        ("YYYY-MM-DD", True),
        ("YYMMDD", True),
        ("DD.MM.YYYY", True),
        ("YYYY--MM", False),
        ("YYYYYY", False),
        ("YYYY-", False),
        ("MMYY", True),
        ("", False),
        ("YYYY/MM", False),
    ],
)
def test_date_formats(fmt: str, valid: bool) -> None:
    data = with_token("yyyymm", {"kind": "date", "format": fmt})
    if valid:
        assert isinstance(parse_spec(data).token("yyyymm"), DateToken)
    else:
        assert "tokens.yyyymm.format" in spec_errors(data)


def test_a_max_length_shorter_than_any_name_is_refused() -> None:
    assert "max_length" in spec_errors({**CAMPAIGN, "max_length": 10})


def test_non_mapping_documents_are_refused() -> None:
    for data in (None, [], "x", 1, {"template": 1}, {1: 2}):
        assert spec_errors(data)
    assert spec_errors([]) == {"(spec)": "must be an object, not a list"}


# --- speed -----------------------------------------------------------------------------


def test_throughput_reports_names_per_second() -> None:
    assert throughput(2_000) > 1_000
