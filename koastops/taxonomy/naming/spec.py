"""The naming-rule document: its JSON shape, checked and turned into frozen dataclasses.

The Django side stores the document as JSON; `parse_spec` is the single gate it goes
through. Every problem is reported with a path (`tokens.free.max_length`) so a form can
show it by the field, and nothing but `SpecError` ever escapes, whatever the input.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar, Literal, NamedTuple, cast

Case = Literal["lower", "upper", "any"]
Charset = Literal["alnum", "alnum_dash", "lower_alnum", "letters", "digits", "slug"]

CASES: tuple[Case, ...] = ("lower", "upper", "any")
# charset -> (its characters, how a person reads it)
CHARSETS: dict[str, tuple[str, str]] = {
    "alnum": (string.ascii_letters + string.digits, "letters or digits"),
    "alnum_dash": (string.ascii_letters + string.digits + "-", "letters, digits or -"),
    "lower_alnum": (string.ascii_lowercase + string.digits, "lower-case letters or digits"),
    "letters": (string.ascii_letters, "letters"),
    "digits": (string.digits, "digits"),
    "slug": (string.ascii_lowercase + string.digits + "-", "lower-case letters, digits or -"),
}
DATE_PARTS = ("YYYY", "YY", "MM", "DD")
DATE_SEPARATORS = "-."

ROOT = "(spec)"  # the path of a problem with the document as a whole
MAX_TEMPLATE_LENGTH = 1000
MAX_TOKENS = 32
MAX_VOCABULARY = 1000
MAX_ALIASES = 100
MAX_VALUE_LENGTH = 200
MAX_NUMBER_DIGITS = 18


class SpecProblem(NamedTuple):
    path: str
    message: str


class SpecError(ValueError):
    """The rule document is not valid; `errors` lists every problem with its path."""

    def __init__(self, errors: Iterable[tuple[str, str]]) -> None:
        self.errors: list[SpecProblem] = [SpecProblem(path, message) for path, message in errors]
        super().__init__("; ".join(f"{p}: {m}" for p, m in self.errors) or "invalid rule")


@dataclass(frozen=True, slots=True)
class VocabularyValue:
    value: str
    label: str = ""
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VocabularyToken:
    kind: ClassVar[str] = "vocabulary"
    values: tuple[VocabularyValue, ...]


@dataclass(frozen=True, slots=True)
class DateToken:
    kind: ClassVar[str] = "date"
    format: str
    # The format split into its parts, e.g. ("YYYY", "-", "MM").
    parts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FreeToken:
    kind: ClassVar[str] = "free"
    min_length: int
    max_length: int
    charset: Charset


@dataclass(frozen=True, slots=True)
class NumberToken:
    kind: ClassVar[str] = "number"
    min_digits: int
    max_digits: int
    minimum: int | None = None
    maximum: int | None = None


TokenSpec = VocabularyToken | DateToken | FreeToken | NumberToken


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """A checked rule. Hashable, so a compiled rule can be cached by it."""

    template: str
    case: Case
    max_length: int
    # In template order.
    tokens: tuple[tuple[str, TokenSpec], ...]
    # The template's literal text around the tokens: len(tokens) + 1 entries, the first
    # is the prefix, the last the suffix, the ones between the separators.
    literals: tuple[str, ...]

    def token(self, name: str) -> TokenSpec:
        for token_name, token in self.tokens:
            if token_name == name:
                return token
        raise KeyError(name)

    def to_data(self) -> dict[str, object]:
        """The JSON document this spec was parsed from (normalised)."""
        tokens: dict[str, object] = {}
        for name, token in self.tokens:
            match token:
                case VocabularyToken(values=values):
                    tokens[name] = {
                        "kind": "vocabulary",
                        "values": [
                            {"value": v.value, "label": v.label, "aliases": list(v.aliases)}
                            for v in values
                        ],
                    }
                case DateToken(format=fmt):
                    tokens[name] = {"kind": "date", "format": fmt}
                case FreeToken():
                    tokens[name] = {
                        "kind": "free",
                        "min_length": token.min_length,
                        "max_length": token.max_length,
                        "charset": token.charset,
                    }
                case NumberToken():
                    data: dict[str, object] = {
                        "kind": "number",
                        "min_digits": token.min_digits,
                        "max_digits": token.max_digits,
                    }
                    if token.minimum is not None:
                        data["min"] = token.minimum
                    if token.maximum is not None:
                        data["max"] = token.maximum
                    tokens[name] = data
        return {
            "template": self.template,
            "case": self.case,
            "max_length": self.max_length,
            "tokens": tokens,
        }


def _is_token_name(name: str) -> bool:
    return (
        1 <= len(name) <= 32
        and name[0] in string.ascii_lowercase
        and all(c in _TOKEN_NAME_CHARS for c in name)
    )


_TOKEN_NAME_CHARS = frozenset(string.ascii_lowercase + string.digits + "_")


def _has_control(text: str) -> bool:
    return any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in text)


def parse_template(template: str) -> tuple[tuple[str, ...], tuple[str, ...], list[str]]:
    """Split a template into (literals, token names, problems)."""
    literals: list[str] = []
    names: list[str] = []
    problems: list[str] = []
    literal: list[str] = []
    i = 0
    while i < len(template):
        char = template[i]
        if char == "{":
            close = template.find("}", i + 1)
            if close == -1:
                problems.append(f"unclosed `{{` at position {i}")
                break
            name = template[i + 1 : close]
            if not _is_token_name(name):
                problems.append(
                    f"`{{{name[:40]}}}` is not a token name (a lower-case letter, then up to "
                    "31 lower-case letters, digits or _)"
                )
            elif name in names:
                problems.append(f"token `{name}` appears more than once")
            elif names and not literal:
                problems.append(f"tokens `{names[-1]}` and `{name}` need a separator between them")
            literals.append("".join(literal))
            literal = []
            names.append(name)
            i = close + 1
        elif char == "}":
            problems.append(f"`}}` at position {i} closes nothing")
            i += 1
        else:
            literal.append(char)
            i += 1
    literals.append("".join(literal))
    if not names and not problems:
        problems.append("the template has no token")
    if _has_control(template):
        problems.append("the template contains control characters")
    return tuple(literals), tuple(names), problems


def parse_date_format(fmt: str) -> tuple[tuple[str, ...], str | None]:
    """Split a date format into its parts, or say why it is not one."""
    parts: list[str] = []
    i = 0
    while i < len(fmt):
        for part in DATE_PARTS:
            if fmt.startswith(part, i):
                if part in parts or (part in ("YYYY", "YY") and ({"YYYY", "YY"} & set(parts))):
                    return (), f"`{part}` appears twice"
                parts.append(part)
                i += len(part)
                break
        else:
            return (), f"`{fmt[i]}` at position {i} is not part of YYYY, YY, MM, DD, - or ."
        if i < len(fmt) and fmt[i] in DATE_SEPARATORS:
            parts.append(fmt[i])
            i += 1
            if i == len(fmt):
                return (), "the format cannot end with a separator"
    if not parts:
        return (), "the format is empty"
    return tuple(parts), None


class _Checker:
    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def mapping(self, data: object, path: str, required: set[str], optional: set[str]) -> bool:
        if not isinstance(data, Mapping):
            self.add(path or ROOT, f"must be an object, not {_kind(data)}")
            return False
        ok = True
        for key in data:
            if not isinstance(key, str):
                self.add(path or ROOT, f"has a key that is not a string ({_kind(key)})")
                ok = False
            elif key not in required and key not in optional:
                self.add(f"{path}.{key[:40]}" if path else key[:40], "is not a known field")
                ok = False
        for key in sorted(required):
            if key not in data:
                self.add(f"{path}.{key}" if path else key, "is required")
                ok = False
        return ok

    def integer(
        self, data: Mapping[str, object], key: str, path: str, low: int, high: int
    ) -> int | None:
        value = data.get(key)
        where = f"{path}.{key}" if path else key
        if type(value) is not int:
            self.add(where, f"must be a whole number, not {_kind(value)}")
            return None
        if not low <= value <= high:
            self.add(where, f"must be between {low} and {high}")
            return None
        return value

    def text(self, value: object, path: str, *, max_length: int = MAX_VALUE_LENGTH) -> str | None:
        if not isinstance(value, str):
            self.add(path, f"must be a string, not {_kind(value)}")
            return None
        if not value:
            self.add(path, "must not be empty")
            return None
        if len(value) > max_length:
            self.add(path, f"must be at most {max_length} characters")
            return None
        if _has_control(value):
            self.add(path, "must not contain control characters")
            return None
        if value != value.strip():
            self.add(path, "must not start or end with a space")
            return None
        return value


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def _recase(text: str, case: str) -> str:
    if case == "lower":
        return text.lower()
    if case == "upper":
        return text.upper()
    return text


def _vocabulary(
    check: _Checker, data: Mapping[str, object], path: str, case: str
) -> TokenSpec | None:
    if not check.mapping(data, path, {"kind", "values"}, set()):
        return None
    raw_values = data["values"]
    if not isinstance(raw_values, list | tuple):
        check.add(f"{path}.values", f"must be a list, not {_kind(raw_values)}")
        return None
    if not 1 <= len(raw_values) <= MAX_VOCABULARY:
        check.add(f"{path}.values", f"must have 1 to {MAX_VOCABULARY} values")
        return None
    seen: dict[str, str] = {}  # lower-cased value or alias -> where it was first given
    values: list[VocabularyValue] = []
    ok = True
    for index, raw in enumerate(raw_values):
        where = f"{path}.values[{index}]"
        if not check.mapping(raw, where, {"value"}, {"label", "aliases"}):
            ok = False
            continue
        raw = cast(Mapping[str, object], raw)
        value = check.text(raw["value"], f"{where}.value")
        label = ""
        if raw.get("label") not in (None, ""):
            label = check.text(raw["label"], f"{where}.label") or ""
        aliases: list[str] = []
        raw_aliases = raw.get("aliases")
        if raw_aliases is not None:
            if not isinstance(raw_aliases, list | tuple):
                check.add(f"{where}.aliases", f"must be a list, not {_kind(raw_aliases)}")
                ok = False
            elif len(raw_aliases) > MAX_ALIASES:
                check.add(f"{where}.aliases", f"must have at most {MAX_ALIASES} aliases")
                ok = False
            else:
                for alias_index, raw_alias in enumerate(raw_aliases):
                    alias = check.text(raw_alias, f"{where}.aliases[{alias_index}]")
                    if alias is None:
                        ok = False
                    else:
                        aliases.append(alias)
        if value is None:
            ok = False
            continue
        named = [(value, f"{where}.value")] + [
            (alias, f"{where}.aliases[{i}]") for i, alias in enumerate(aliases)
        ]
        for text, text_path in named:
            key = text.lower()
            if key in seen:
                check.add(text_path, f"`{text}` is already given at {seen[key]} (case-insensitive)")
                ok = False
            else:
                seen[key] = text_path
        if _recase(value, case).lower() != value.lower():
            check.add(f"{where}.value", f"`{value}` cannot be written in {case} case")
            ok = False
        values.append(VocabularyValue(value=value, label=label, aliases=tuple(aliases)))
    return VocabularyToken(values=tuple(values)) if ok else None


def _date(check: _Checker, data: Mapping[str, object], path: str) -> TokenSpec | None:
    if not check.mapping(data, path, {"kind", "format"}, set()):
        return None
    fmt = data["format"]
    if not isinstance(fmt, str):
        check.add(f"{path}.format", f"must be a string, not {_kind(fmt)}")
        return None
    parts, problem = parse_date_format(fmt)
    if problem:
        check.add(f"{path}.format", problem)
        return None
    return DateToken(format=fmt, parts=parts)


def _free(check: _Checker, data: Mapping[str, object], path: str, case: str) -> TokenSpec | None:
    if not check.mapping(data, path, {"kind", "max_length", "charset"}, {"min_length"}):
        return None
    low = check.integer(data, "min_length", path, 1, 200) if "min_length" in data else 1
    high = check.integer(data, "max_length", path, 1, 200)
    charset = data["charset"]
    ok = low is not None and high is not None
    if not isinstance(charset, str) or charset not in CHARSETS:
        check.add(f"{path}.charset", f"must be one of {', '.join(CHARSETS)}")
        ok = False
    elif case == "upper" and charset in ("lower_alnum", "slug"):
        check.add(f"{path}.charset", f"`{charset}` cannot be written in upper case")
        ok = False
    if low is not None and high is not None and low > high:
        check.add(f"{path}.min_length", "must not be more than max_length")
        ok = False
    if not ok or low is None or high is None:
        return None
    return FreeToken(min_length=low, max_length=high, charset=cast(Charset, charset))


def _number(check: _Checker, data: Mapping[str, object], path: str) -> TokenSpec | None:
    if not check.mapping(data, path, {"kind", "max_digits"}, {"min_digits", "min", "max"}):
        return None
    low_digits = (
        check.integer(data, "min_digits", path, 1, MAX_NUMBER_DIGITS) if "min_digits" in data else 1
    )
    high_digits = check.integer(data, "max_digits", path, 1, MAX_NUMBER_DIGITS)
    if low_digits is None or high_digits is None:
        return None
    if low_digits > high_digits:
        check.add(f"{path}.min_digits", "must not be more than max_digits")
        return None
    largest = 10**high_digits - 1
    minimum = maximum = None
    ok = True
    if data.get("min") is not None:
        minimum = check.integer(data, "min", path, 0, largest)
        ok = ok and minimum is not None
    if data.get("max") is not None:
        maximum = check.integer(data, "max", path, 0, largest)
        ok = ok and maximum is not None
    if minimum is not None and maximum is not None and minimum > maximum:
        check.add(f"{path}.min", "must not be more than max")
        ok = False
    if not ok:
        return None
    return NumberToken(
        min_digits=low_digits, max_digits=high_digits, minimum=minimum, maximum=maximum
    )


def token_characters(token: TokenSpec) -> dict[str, str]:
    """Every character a token's text can hold -> the path-suffix that allows it."""
    chars: dict[str, str] = {}
    match token:
        case VocabularyToken(values=values):
            for index, value in enumerate(values):
                texts = [(value.value, f"values[{index}].value")] + [
                    (alias, f"values[{index}].aliases[{i}]")
                    for i, alias in enumerate(value.aliases)
                ]
                for text, where in texts:
                    for char in text + text.lower() + text.upper():
                        chars.setdefault(char, where)
        case DateToken(parts=parts):
            chars.update(dict.fromkeys(string.digits, "format"))
            for part in parts:
                if part in DATE_SEPARATORS:
                    chars.setdefault(part, "format")
        case FreeToken(charset=charset):
            chars.update(dict.fromkeys(CHARSETS[charset][0], "charset"))
        case NumberToken():
            chars.update(dict.fromkeys(string.digits, "max_digits"))
    return chars


def minimum_length(token: TokenSpec, case: str) -> int:
    match token:
        case VocabularyToken(values=values):
            return min(len(_recase(v.value, case)) for v in values)
        case DateToken(parts=parts):
            return sum(2 if p in ("YY", "MM", "DD") else 4 if p == "YYYY" else 1 for p in parts)
        case FreeToken(min_length=low):
            return low
        case NumberToken(min_digits=low):
            return low
    raise AssertionError(token)  # pragma: no cover


def parse_spec(data: object) -> RuleSpec:
    """Check a rule document and return it as a `RuleSpec`; raise `SpecError` otherwise."""
    check = _Checker()
    if not check.mapping(data, "", {"template", "case", "max_length", "tokens"}, set()):
        raise SpecError(check.problems or [(ROOT, "is not a valid rule")])
    doc = cast(Mapping[str, object], data)

    case = doc["case"]
    if not isinstance(case, str) or case not in CASES:
        check.add("case", "must be one of lower, upper, any")
        case = "any"
    max_length = check.integer(doc, "max_length", "", 1, 1000)

    template = doc["template"]
    literals: tuple[str, ...] = ()
    order: tuple[str, ...] = ()
    if not isinstance(template, str):
        check.add("template", f"must be a string, not {_kind(template)}")
    elif not 1 <= len(template) <= MAX_TEMPLATE_LENGTH:
        check.add("template", f"must be 1 to {MAX_TEMPLATE_LENGTH} characters")
    else:
        literals, order, problems = parse_template(template)
        for problem in problems:
            check.add("template", problem)
        if problems:
            order = ()
        elif len(order) > MAX_TOKENS:
            check.add("template", f"has more than {MAX_TOKENS} tokens")
            order = ()
        for literal in literals:
            if _recase(literal, case) != literal:
                check.add("template", f"the text `{literal}` is not {case} case")

    raw_tokens = doc["tokens"]
    parsed: dict[str, TokenSpec] = {}
    if not isinstance(raw_tokens, Mapping):
        check.add("tokens", f"must be an object, not {_kind(raw_tokens)}")
    else:
        for name, raw in raw_tokens.items():
            if not isinstance(name, str):
                check.add("tokens", f"has a key that is not a string ({_kind(name)})")
                continue
            path = f"tokens.{name[:40]}"
            if not _is_token_name(name):
                check.add(path, "is not a token name")
                continue
            if order and name not in order:
                check.add(path, "is not used in the template")
            if not isinstance(raw, Mapping):
                check.add(path, f"must be an object, not {_kind(raw)}")
                continue
            kind = raw.get("kind")
            token: TokenSpec | None
            if kind == "vocabulary":
                token = _vocabulary(check, raw, path, case)
            elif kind == "date":
                token = _date(check, raw, path)
            elif kind == "free":
                token = _free(check, raw, path, case)
            elif kind == "number":
                token = _number(check, raw, path)
            else:
                check.add(f"{path}.kind", "must be one of vocabulary, date, free, number")
                token = None
            if token is not None:
                parsed[name] = token
        for name in order:
            if name not in raw_tokens:
                check.add("template", f"token `{name}` has no entry in tokens")

    if check.problems:
        raise SpecError(check.problems)

    # Parsing stays linear and unambiguous only if no token can hold a character of a
    # separator next to it: then the first separator found always ends the token.
    for index in range(len(order) - 1):
        separator = literals[index + 1]
        separator_chars = set(separator + separator.lower() + separator.upper())
        for name in (order[index], order[index + 1]):
            chars = token_characters(parsed[name])
            for char in sorted(separator_chars):
                if char in chars:
                    check.add(
                        f"tokens.{name}.{chars[char]}",
                        f"token `{name}` can contain `{char}`, which is in the separator "
                        f"`{separator}` next to it; names could not be split unambiguously",
                    )
                    break
    if max_length is None:  # pragma: no cover - reported as a problem above
        raise SpecError([("max_length", "is required")])
    shortest = sum(len(literal) for literal in literals) + sum(
        minimum_length(parsed[name], case) for name in order
    )
    if shortest > max_length:
        check.add(
            "max_length",
            f"is {max_length}, but the shortest possible name has {shortest} characters",
        )
    if check.problems:
        raise SpecError(check.problems)
    return RuleSpec(
        template=cast(str, template),
        case=cast(Case, case),
        max_length=max_length,
        tokens=tuple((name, parsed[name]) for name in order),
        literals=literals,
    )
