"""Compiled naming rules: validate, parse, build and suggest.

A rule compiles once into per-token checkers. The valid path splits the name on its
separators and does one set lookup or precompiled regex per token; everything slower
(structure repair, edit distance) runs only for names that fail, and per-value findings
are memoised per token.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations, islice, pairwise

from rapidfuzz import process
from rapidfuzz.distance import OSA

from .spec import (
    CHARSETS,
    DateToken,
    FreeToken,
    NumberToken,
    RuleSpec,
    TokenSpec,
    VocabularyToken,
    parse_spec,
)

NAME = "(name)"
_EN_DASH = "\u2013"  # ranges read like "1 to 30" with an en dash, as the product writes them
STRUCTURE = "(structure)"
# Characters people type by mistake where a separator belongs.
_LIKELY_SEPARATORS = ("_", "-", ".", " ", "|", "+", "~", ":", "/", ",")
_MEMO_LIMIT = 20_000  # findings remembered per token (then forgotten all at once)
_MEMO_TEXT_LIMIT = 200
# Bound of the structure repair search (which parts are missing or extra).
_MAX_HYPOTHESES = 256


@dataclass(frozen=True, slots=True)
class Error:
    token: str
    value: str
    expected: str
    suggestion: str | None
    start: int
    end: int
    message: str


@dataclass(frozen=True, slots=True)
class Result:
    name: str
    valid: bool
    tokens: dict[str, str] = field(default_factory=dict)
    errors: tuple[Error, ...] = ()
    corrected: str | None = None


# The valid path builds a Result per name; the frozen dataclass __init__ (one
# object.__setattr__ per field) would be a third of its cost, so it sets the slots directly.
_SET_NAME, _SET_VALID, _SET_TOKENS, _SET_ERRORS, _SET_CORRECTED = (
    Result.__dict__[field_name].__set__
    for field_name in ("name", "valid", "tokens", "errors", "corrected")
)


def _valid_result(name: str, tokens: dict[str, str]) -> Result:
    result = object.__new__(Result)
    _SET_NAME(result, name)
    _SET_VALID(result, True)
    _SET_TOKENS(result, tokens)
    _SET_ERRORS(result, ())
    _SET_CORRECTED(result, None)
    return result


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True, slots=True)
class TokenInfo:
    token: str
    kind: str
    expected: str
    choices: tuple[Choice, ...] = ()


class BuildError(ValueError):
    """The values given to `build` do not make a valid name; `errors` says why."""

    def __init__(self, errors: Iterable[Error]) -> None:
        self.errors: tuple[Error, ...] = tuple(errors)
        super().__init__("; ".join(e.message for e in self.errors) or "invalid values")


@dataclass(frozen=True, slots=True)
class _Finding:
    """Why one token's text is wrong, and what it probably should be."""

    detail: str
    suggestion: str | None = None


def _show(text: str, limit: int = 40) -> str:
    """Text for a message: quoted, shortened, with unprintable characters escaped."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    if not text.isprintable():
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return f"`{text}`"


class _Token:
    kind: str
    expected: str

    def __init__(self, name: str) -> None:
        self.name = name
        self._memo: dict[str, _Finding | None] = {}

    def fast(self, text: str) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def fast_check(self) -> Callable[[str], object]:
        """The quickest callable telling, by its truth, whether text is valid as written."""
        return self.fast

    def canonical(self, text: str) -> str:
        return text

    def choices(self) -> tuple[Choice, ...]:
        return ()

    def find(self, text: str) -> _Finding | None:
        """None if `text` is acceptable (case aside), else why not; memoised."""
        try:
            return self._memo[text]
        except KeyError:
            pass
        finding = self._find(text)
        if len(text) <= _MEMO_TEXT_LIMIT:  # a hostile 10,000-character part is not kept
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            self._memo[text] = finding
        return finding

    def _find(self, text: str) -> _Finding | None:  # pragma: no cover - overridden
        raise NotImplementedError


class _Vocabulary(_Token):
    kind = "vocabulary"

    def __init__(self, name: str, spec: VocabularyToken, case: str) -> None:
        super().__init__(name)
        self._display = tuple(_recase(v.value, case) for v in spec.values)
        self._labels = tuple(v.label for v in spec.values)
        self._exact = frozenset(self._display)
        self._by_lower = {d.lower(): d for d in self._display}
        self._aliases = {
            alias.lower(): display
            for v, display in zip(spec.values, self._display, strict=True)
            for alias in v.aliases
        }
        # Edit-distance candidates: every value and alias, lower-cased, with its value.
        self._candidates = list(self._by_lower) + list(self._aliases)
        self._targets = list(self._by_lower.values()) + list(self._aliases.values())
        self._longest = max(len(c) for c in self._candidates)
        self._case_blind = case == "any"
        self.expected = "one of " + _enumerate(self._display)

    def fast(self, text: str) -> bool:
        if text in self._exact:
            return True
        return self._case_blind and text.lower() in self._by_lower

    def fast_check(self) -> Callable[[str], object]:
        return self.fast if self._case_blind else self._exact.__contains__

    def canonical(self, text: str) -> str:
        return self._by_lower.get(text.lower(), text)

    def choices(self) -> tuple[Choice, ...]:
        return tuple(Choice(d, label) for d, label in zip(self._display, self._labels, strict=True))

    def _find(self, text: str) -> _Finding | None:
        key = text.lower()
        if key in self._by_lower:
            return None
        if key in self._aliases:
            return _Finding("is not allowed", self._aliases[key])
        return _Finding("is not allowed", self._nearest(key))

    def _nearest(self, key: str) -> str | None:
        limit = max(1, len(key) // 3)
        if not key or len(key) - limit > self._longest:
            return None
        matches = process.extract(
            key, self._candidates, scorer=OSA.distance, score_cutoff=limit, limit=None
        )
        if not matches:
            return None
        best = min(score for _, score, _ in matches)
        targets = {self._targets[index] for _, score, index in matches if score == best}
        return targets.pop() if len(targets) == 1 else None


class _Date(_Token):
    kind = "date"
    _WIDTH = {"YYYY": 4, "YY": 2, "MM": 2, "DD": 2}

    def __init__(self, name: str, spec: DateToken) -> None:
        super().__init__(name)
        self._parts = spec.parts
        self._format = spec.format
        self._fields = tuple(p for p in spec.parts if p in self._WIDTH)
        pattern = "".join(
            f"([0-9]{{{self._WIDTH[p]}}})" if p in self._WIDTH else re.escape(p) for p in spec.parts
        )
        self._regex = re.compile(pattern)
        self._valid: dict[str, bool] = {}
        self.expected = f"a date {spec.format}"

    def fast(self, text: str) -> bool:
        known = self._valid.get(text)
        if known is not None:
            return known
        valid = self._problem(text) is None
        if len(self._valid) >= _MEMO_LIMIT:
            self._valid.clear()
        self._valid[text] = valid
        return valid

    def _problem(self, text: str) -> str | None:
        match = self._regex.fullmatch(text)
        if match is None:
            return f"is not in the format {self._format}"
        values = dict(zip(self._fields, (int(g) for g in match.groups()), strict=True))
        year = values.get("YYYY", 2000 + values.get("YY", 0))
        if "YYYY" not in values and "YY" not in values:
            year = 2000  # a leap year: 29 February is a real date in some year
        if year < 1:
            return "is not a real date (year 0000)"
        month = values.get("MM")
        if month is not None and not 1 <= month <= 12:
            return f"is not a real date (month {month:02d})"
        day = values.get("DD")
        if day is not None:
            last = _days_in_month(year, month) if month is not None else 31
            if not 1 <= day <= last:
                return f"is not a real date (day {day:02d})"
        return None

    def _find(self, text: str) -> _Finding | None:
        problem = self._problem(text)
        if problem is None:
            return None
        return _Finding(problem, self._reformat(text) if "real date" not in problem else None)

    def _reformat(self, text: str) -> str | None:
        """`2026-05` for YYYYMM -> `202605`: the same digits in the format's layout."""
        if not text or any(c not in string.digits + "-./_ " for c in text):
            return None
        groups = re.findall(r"[0-9]+", text)
        widths = [self._WIDTH[f] for f in self._fields]
        if len(groups) == len(widths):
            if any(
                not 1 <= len(g) <= w or (len(g) < w and w == 4)
                for g, w in zip(groups, widths, strict=True)
            ):
                return None
            digits = [g.zfill(w) for g, w in zip(groups, widths, strict=True)]
        elif len(groups) == 1 and len(groups[0]) == sum(widths):
            digits, at = [], 0
            for width in widths:
                digits.append(groups[0][at : at + width])
                at += width
        else:
            return None
        fields = iter(digits)
        candidate = "".join(next(fields) if p in self._WIDTH else p for p in self._parts)
        if candidate == text or self._problem(candidate) is not None:
            return None
        return candidate


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


class _Free(_Token):
    kind = "free"

    def __init__(self, name: str, spec: FreeToken) -> None:
        super().__init__(name)
        chars, description = CHARSETS[spec.charset]
        self._chars = frozenset(chars)
        self._low, self._high = spec.min_length, spec.max_length
        klass = "[" + "".join(re.escape(c) for c in chars) + "]"
        self._regex = re.compile(f"{klass}{{{self._low},{self._high}}}")
        size = f"{self._low}" if self._low == self._high else f"{self._low}{_EN_DASH}{self._high}"
        self.expected = f"{size} {description}"
        self._lower_only = spec.charset in ("lower_alnum", "slug")

    def fast(self, text: str) -> bool:
        return self._regex.fullmatch(text) is not None

    def fast_check(self) -> Callable[[str], object]:
        return self._regex.fullmatch

    def _find(self, text: str) -> _Finding | None:
        if self._regex.fullmatch(text):
            return None
        if not self._low <= len(text) <= self._high:
            detail = f"has {len(text)} characters"
        else:
            bad = next(c for c in text if c not in self._chars)
            detail = f"contains {_show(bad)}"
        suggestion = None
        if self._lower_only and self._regex.fullmatch(text.lower()):
            suggestion = text.lower()
        return _Finding(detail, suggestion)


class _Number(_Token):
    kind = "number"

    def __init__(self, name: str, spec: NumberToken) -> None:
        super().__init__(name)
        self._low_digits, self._high_digits = spec.min_digits, spec.max_digits
        self._regex = re.compile(f"[0-9]{{{spec.min_digits},{spec.max_digits}}}")
        self._minimum, self._maximum = spec.minimum, spec.maximum
        digits = (
            f"{spec.min_digits}"
            if spec.min_digits == spec.max_digits
            else f"{spec.min_digits}{_EN_DASH}{spec.max_digits}"
        )
        self.expected = f"a number of {digits} digits"
        if spec.minimum is not None and spec.maximum is not None:
            self.expected += f" from {spec.minimum} to {spec.maximum}"
        elif spec.minimum is not None:
            self.expected += f", at least {spec.minimum}"
        elif spec.maximum is not None:
            self.expected += f", at most {spec.maximum}"

    def fast(self, text: str) -> bool:
        return self._problem(text) is None

    def _problem(self, text: str) -> str | None:
        if self._regex.fullmatch(text) is None:
            if text and text.isascii() and text.isdigit():
                return f"has {len(text)} digits"
            return "is not a number"
        if len(text) > max(1, self._low_digits) and text[0] == "0":
            return "has a leading zero"
        value = int(text)
        if (self._minimum is not None and value < self._minimum) or (
            self._maximum is not None and value > self._maximum
        ):
            return "is out of range"
        return None

    def _find(self, text: str) -> _Finding | None:
        problem = self._problem(text)
        if problem is None:
            return None
        suggestion = None
        if text.isascii() and text.isdigit() and len(text) <= 40:
            candidate = str(int(text)).zfill(self._low_digits)
            if candidate != text and self._problem(candidate) is None:
                suggestion = candidate
        return _Finding(problem, suggestion)


def _token_message(token: _Token, text: str, finding: _Finding) -> str:
    if finding.suggestion is not None:
        hint = f"did you mean {_show(finding.suggestion)}?"
    else:
        hint = f"expected {token.expected}."
    return f"{token.name}: {_show(text)} {finding.detail}; {hint}"


def _recase(text: str, case: str) -> str:
    if case == "lower":
        return text.lower()
    if case == "upper":
        return text.upper()
    return text


def _enumerate(values: tuple[str, ...], shown: int = 12) -> str:
    if len(values) <= shown:
        return ", ".join(values)
    return ", ".join(values[:shown]) + f", … ({len(values)} values)"


def _make_token(name: str, spec: TokenSpec, case: str) -> _Token:
    match spec:
        case VocabularyToken():
            return _Vocabulary(name, spec, case)
        case DateToken():
            return _Date(name, spec)
        case FreeToken():
            return _Free(name, spec)
        case NumberToken():
            return _Number(name, spec)
    raise TypeError(spec)  # pragma: no cover


# A fix that makes an error go away: replace name[start:end] by the text; the marker
# `_RECASE` stands for re-casing the whole name (applied after the replacements).
_Fix = tuple[int, int, str]
_RECASE = "recase"


@dataclass(slots=True)
class _Diagnosis:
    errors: list[Error] = field(default_factory=list)
    fixes: list[_Fix | str | None] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)
    structure_ok: bool = True

    def add(self, error: Error, fix: _Fix | str | None) -> None:
        self.errors.append(error)
        self.fixes.append(fix)


# One way of reading the parts of a name: each token's (start, end) or None if missing,
# and the structure errors that reading implies.
_Reading = tuple[list[tuple[int, int] | None], list[tuple[Error, _Fix | None]]]
_Candidate = tuple[list[tuple[int, int] | None], int, Callable[[], list[tuple[Error, _Fix | None]]]]


class CompiledRule:
    """A rule ready to check names. Build with `compile_rule`; immutable and shareable."""

    def __init__(self, spec: RuleSpec) -> None:
        self.spec = spec
        self.key = spec
        self._case = spec.case
        self._max_length = spec.max_length
        self._names = tuple(name for name, _ in spec.tokens)
        self._tokens = tuple(_make_token(name, token, spec.case) for name, token in spec.tokens)
        self._prefix = spec.literals[0]
        self._suffix = spec.literals[-1]
        self._separators = spec.literals[1:-1]
        self._uniform = (
            self._separators[0] if self._separators and len(set(self._separators)) == 1 else None
        )
        self._recase: Callable[[str], str] | None = (
            str.lower if spec.case == "lower" else str.upper if spec.case == "upper" else None
        )
        self._fast = self._make_fast()

    def __repr__(self) -> str:
        return f"<CompiledRule {self.spec.template!r}>"

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CompiledRule) and other.key == self.key

    # --- checking ---------------------------------------------------------------------

    def validate(self, name: str) -> Result:
        tokens = self._fast(name)
        if tokens is not None:
            return _valid_result(name, tokens)
        return self._slow(name, correct=True)

    def validate_many(self, names: Iterable[str]) -> list[Result]:
        fast, slow = self._fast, self._slow
        results: list[Result] = []
        append = results.append
        for name in names:
            tokens = fast(name)
            append(_valid_result(name, tokens) if tokens is not None else slow(name, correct=True))
        return results

    def _make_fast(self) -> Callable[[str], dict[str, str] | None]:
        """The valid path: the parsed tokens if a name is valid as written, else None.

        None means "not sure": the slow path then decides and explains. The common shape
        (one separator, no prefix or suffix) gets a closure over locals, the rest the
        general method.
        """
        checks = tuple(t.fast_check() for t in self._tokens)
        names, count = self._names, len(self._tokens)
        max_length, recase, separator = self._max_length, self._recase, self._uniform
        if separator is None or self._prefix or self._suffix:
            self._checks = checks
            return self._fast_general

        def fast(name: str) -> dict[str, str] | None:
            if len(name) > max_length or (recase is not None and recase(name) != name):
                return None
            parts = name.split(separator)
            if len(parts) != count:
                return None
            for check, part in zip(checks, parts):  # noqa: B905 - same length, checked above
                if not check(part):
                    return None
            return dict(zip(names, parts))  # noqa: B905 - as above

        return fast

    def _fast_general(self, name: str) -> dict[str, str] | None:
        if len(name) > self._max_length:
            return None
        if self._recase is not None and self._recase(name) != name:
            return None
        prefix, suffix = self._prefix, self._suffix
        if prefix or suffix:
            if (
                len(name) < len(prefix) + len(suffix)
                or not name.startswith(prefix)
                or not name.endswith(suffix)
            ):
                return None
            body = name[len(prefix) : len(name) - len(suffix)]
        else:
            body = name
        if self._uniform is not None:
            parts = body.split(self._uniform)
            if len(parts) != len(self._tokens):
                return None
        elif not self._separators:
            parts = [body]
        else:
            parts = []
            at = 0
            for separator in self._separators:
                found = body.find(separator, at)
                if found < 0:
                    return None
                parts.append(body[at:found])
                at = found + len(separator)
            parts.append(body[at:])
        for check, part in zip(self._checks, parts):  # noqa: B905 - same length, checked above
            if not check(part):
                return None
        return dict(zip(self._names, parts))  # noqa: B905 - as above

    def _slow(self, name: str, *, correct: bool) -> Result:
        diagnosis = self._diagnose(name)
        if not diagnosis.errors:
            return Result(name, True, diagnosis.tokens)
        errors = tuple(diagnosis.errors)
        corrected = self._correct(name, diagnosis) if correct else None
        tokens = diagnosis.tokens if diagnosis.structure_ok else {}
        return Result(name, False, tokens, errors, corrected)

    def _correct(self, name: str, diagnosis: _Diagnosis) -> str | None:
        fixes = diagnosis.fixes
        if len(fixes) == 1 and isinstance(fixes[0], tuple):  # the usual case: one bad token
            start, end, text = fixes[0]
            candidate = name[:start] + text + name[end:]
            if self._fast(candidate) is not None or not self._diagnose(candidate).errors:
                return candidate
            return None
        if None in fixes:
            return None
        edits = sorted(fix for fix in fixes if isinstance(fix, tuple))
        for before, after in pairwise(edits):
            if before[1] > after[0]:
                return None
        candidate = name
        for start, end, text in reversed(edits):
            candidate = candidate[:start] + text + candidate[end:]
        if _RECASE in diagnosis.fixes and self._recase is not None:
            candidate = self._recase(candidate)
        if candidate == name:
            return None
        if self._fast(candidate) is None and self._diagnose(candidate).errors:
            return None
        return candidate

    def _diagnose(self, name: str) -> _Diagnosis:
        diagnosis = _Diagnosis()
        length = len(name)
        if length > self._max_length:
            diagnosis.add(
                Error(
                    NAME,
                    name,
                    f"at most {self._max_length} characters",
                    None,
                    self._max_length,
                    length,
                    f"The name has {length} characters; at most {self._max_length} are allowed.",
                ),
                None,
            )
        if self._recase is not None:
            recased = self._recase(name)
            if recased != name:
                wrong = [i for i, c in enumerate(name) if self._recase(c) != c]
                start, end = (wrong[0], wrong[-1] + 1) if wrong else (0, length)
                diagnosis.add(
                    Error(
                        NAME,
                        name,
                        f"{self._case} case",
                        recased,
                        start,
                        end,
                        f"The name must be {self._case} case: {_show(recased, 80)}.",
                    ),
                    _RECASE,
                )
        # Literals and vocabularies match regardless of case: a case problem is reported
        # once, for the whole name, above.
        folded = name.lower()
        if len(folded) != length:
            folded = name
        if self._prefix or self._suffix:
            start, end = self._literals(name, folded, diagnosis)
        else:
            start, end = 0, length
        if start == end == 0 and length == 0:
            diagnosis.structure_ok = False
            diagnosis.add(
                Error(
                    STRUCTURE,
                    "",
                    self._template_text(),
                    None,
                    0,
                    0,
                    f"The name is empty; expected {self._template_text()}.",
                ),
                None,
            )
            return diagnosis
        spans, structure = self._read(name, folded, start, end)
        for error, fix in structure:
            diagnosis.structure_ok = False
            diagnosis.add(error, fix)
        recase, tokens = self._recase, diagnosis.tokens
        for token, span in zip(self._tokens, spans, strict=True):
            if span is None:
                continue
            text = name[span[0] : span[1]]
            tokens[token.name] = text
            finding = token.find(recase(text) if recase is not None else text)
            if finding is None:
                continue
            message = _token_message(token, text, finding)
            diagnosis.add(
                Error(
                    token.name,
                    text,
                    token.expected,
                    finding.suggestion,
                    span[0],
                    span[1],
                    message,
                ),
                None if finding.suggestion is None else (span[0], span[1], finding.suggestion),
            )
        if len(diagnosis.errors) > 1:
            diagnosis.errors, diagnosis.fixes = _in_order(diagnosis.errors, diagnosis.fixes)
        return diagnosis

    def _template_text(self) -> str:
        return _show(self.spec.template, 120)

    def _literals(self, name: str, folded: str, diagnosis: _Diagnosis) -> tuple[int, int]:
        """Check the prefix and suffix; return where the tokens' part of the name lies."""
        length = len(name)
        start, end = 0, length
        prefix, suffix = self._prefix, self._suffix
        if prefix:
            if folded.startswith(prefix.lower()):
                start = len(prefix)
            else:
                typo = length >= len(prefix) and OSA.distance(
                    folded[: len(prefix)], prefix.lower()
                ) <= max(1, len(prefix) // 3)
                span_end = len(prefix) if typo else 0
                start = span_end
                diagnosis.structure_ok = False
                diagnosis.add(
                    Error(
                        STRUCTURE,
                        name[:span_end],
                        f"starts with {_show(prefix)}",
                        prefix,
                        0,
                        span_end,
                        f"The name must start with {_show(prefix)}.",
                    ),
                    (0, span_end, prefix),
                )
        if suffix:
            if folded.endswith(suffix.lower()) and length - len(suffix) >= start:
                end = length - len(suffix)
            else:
                typo = length - len(suffix) >= start and OSA.distance(
                    folded[length - len(suffix) :], suffix.lower()
                ) <= max(1, len(suffix) // 3)
                end = length - len(suffix) if typo else length
                diagnosis.structure_ok = False
                diagnosis.add(
                    Error(
                        STRUCTURE,
                        name[end:],
                        f"ends with {_show(suffix)}",
                        suffix,
                        end,
                        length,
                        f"The name must end with {_show(suffix)}.",
                    ),
                    (end, length, suffix),
                )
        return start, end

    def _read(self, name: str, folded: str, start: int, end: int) -> _Reading:
        """Find each token's span between start and end, repairing the structure if needed."""
        count = len(self._tokens)
        if count == 1:
            return [(start, end)], []
        if self._uniform is None:
            return self._read_sequential(name, folded, start, end)
        separator = self._uniform.lower()
        spans = _split(folded, start, end, (separator,))
        if len(spans) == count:
            return list(spans), []
        # Candidate readings: (spans, how many structure errors, how to build them). The
        # errors are built for the chosen reading only.
        candidates: list[_Candidate] = []
        body = folded[start:end]
        for other in _LIKELY_SEPARATORS:
            # Past the maximum length a name is not a near miss: no repair is tried.
            if end - start > self._max_length or other in separator or other not in body:
                continue
            mixed = _split(folded, start, end, (separator, other))
            if len(mixed) == count:
                wrong = [(a, b) for (_, a), (b, _) in pairwise(mixed) if folded[a:b] != separator]
                candidates.append(
                    (
                        list(mixed),
                        len(wrong),
                        functools.partial(self._wrong_separators, name, wrong),
                    )
                )
        # Repairing one or two misplaced parts is useful; beyond that a reading is a guess.
        repairable = abs(len(spans) - count) <= max(2, count // 3)
        if len(spans) < count and repairable:
            for missing in islice(combinations(range(count), count - len(spans)), _MAX_HYPOTHESES):
                parts = iter(spans)
                assigned: list[tuple[int, int] | None] = [
                    None if index in missing else next(parts) for index in range(count)
                ]
                candidates.append(
                    (
                        assigned,
                        len(missing),
                        functools.partial(self._missing, assigned, missing, end),
                    )
                )
        elif len(spans) > count and repairable:
            for extra in islice(
                combinations(range(len(spans)), len(spans) - count), _MAX_HYPOTHESES
            ):
                kept: list[tuple[int, int] | None] = [
                    span for index, span in enumerate(spans) if index not in extra
                ]
                extra_spans = [spans[index] for index in extra]
                candidates.append(
                    (kept, len(extra), functools.partial(self._extra, name, extra_spans))
                )
        if candidates:
            fits: dict[tuple[int, int, int], bool] = {}
            scored = [
                (self._valid_count(name, c[0], fits), -c[1], -i) for i, c in enumerate(candidates)
            ]
            best_score = max(scored)
            # A reading in which no part fits would only add noise: say it plainly.
            if best_score[0] > 0:
                chosen = candidates[-best_score[2]]
                return chosen[0], chosen[2]()
        return [None] * count, [
            (
                Error(
                    STRUCTURE,
                    name[start:end],
                    f"{count} parts separated by {_show(self._uniform)}",
                    None,
                    start,
                    end,
                    f"Expected {count} parts separated by {_show(self._uniform)}, "
                    f"found {len(spans)}.",
                ),
                None,
            )
        ]

    def _valid_count(
        self,
        name: str,
        spans: list[tuple[int, int] | None],
        fits: dict[tuple[int, int, int], bool],
    ) -> int:
        """How many tokens of a reading are valid; `fits` remembers (token, span) answers."""
        valid = 0
        recase = self._recase
        for index, span in enumerate(spans):
            if span is None:
                continue
            key = (index, span[0], span[1])
            fit = fits.get(key)
            if fit is None:
                text = name[span[0] : span[1]]
                token = self._tokens[index]
                fit = fits[key] = token.find(recase(text) if recase is not None else text) is None
            valid += fit
        return valid

    def _wrong_separators(
        self, name: str, wrong: list[tuple[int, int]]
    ) -> list[tuple[Error, _Fix | None]]:
        separator = self._uniform or ""
        return [
            (
                Error(
                    STRUCTURE,
                    name[a:b],
                    f"{_show(separator)} between parts",
                    separator,
                    a,
                    b,
                    f"Wrong separator {_show(name[a:b])} at position {a}; parts are "
                    f"separated by {_show(separator)}.",
                ),
                (a, b, separator),
            )
            for a, b in wrong
        ]

    def _missing(
        self, assigned: list[tuple[int, int] | None], missing: tuple[int, ...], end: int
    ) -> list[tuple[Error, _Fix | None]]:
        errors: list[tuple[Error, _Fix | None]] = []
        for index in missing:
            following = next((s for s in assigned[index + 1 :] if s is not None), None)
            at = following[0] if following is not None else end
            token = self._tokens[index]
            error = Error(
                STRUCTURE,
                "",
                f"{token.name}: {token.expected}",
                None,
                at,
                at,
                f"{token.name} is missing: expected {token.expected}.",
            )
            errors.append((error, None))
        return errors

    def _extra(self, name: str, extra: list[tuple[int, int]]) -> list[tuple[Error, _Fix | None]]:
        count = len(self._tokens)
        separator = _show(self._uniform or "")
        return [
            (
                Error(
                    STRUCTURE,
                    name[a:b],
                    f"{count} parts separated by {separator}",
                    None,
                    a,
                    b,
                    f"{_show(name[a:b])} is an extra part: the rule has {count} parts "
                    f"separated by {separator}.",
                ),
                None,
            )
            for a, b in extra
        ]

    def _read_sequential(self, name: str, folded: str, start: int, end: int) -> _Reading:
        spans: list[tuple[int, int] | None] = []
        at = start
        for index, separator in enumerate(self._separators):
            found = folded.find(separator.lower(), at, end)
            if found < 0:
                spans.extend([None] * (len(self._tokens) - index))
                error = Error(
                    STRUCTURE,
                    name[at:end],
                    f"{_show(separator)} after {self._names[index]}",
                    None,
                    at,
                    end,
                    f"Expected {_show(separator)} after {self._names[index]}; "
                    f"expected {self._template_text()}.",
                )
                return spans, [(error, None)]
            spans.append((at, found))
            at = found + len(separator)
        spans.append((at, end))
        return spans, []

    # --- building and describing --------------------------------------------------------

    def build(self, values: Mapping[str, str]) -> str:
        errors: list[Error] = [
            Error(
                STRUCTURE,
                str(key),
                "one of " + ", ".join(self._names),
                None,
                0,
                0,
                f"{_show(str(key))} is not a token of this rule.",
            )
            for key in values
            if key not in self._names
        ]
        pieces = [self._prefix]
        at = len(self._prefix)
        for index, token in enumerate(self._tokens):
            raw = values.get(token.name)
            if not isinstance(raw, str) or raw == "":
                errors.append(
                    Error(
                        token.name,
                        "",
                        token.expected,
                        None,
                        at,
                        at,
                        f"{token.name}: a value is required; expected {token.expected}.",
                    )
                )
                text = ""
            else:
                text = token.canonical(raw)
                probe = self._recase(text) if self._recase is not None else text
                finding = token.find(probe)
                if finding is not None:
                    errors.append(
                        Error(
                            token.name,
                            text,
                            token.expected,
                            finding.suggestion,
                            at,
                            at + len(text),
                            _token_message(token, text, finding),
                        )
                    )
            pieces.append(text)
            at += len(text)
            literal = self.spec.literals[index + 1]
            pieces.append(literal)
            at += len(literal)
        if errors:
            raise BuildError(errors)
        name = "".join(pieces)
        result = self.validate(name)
        if not result.valid:
            raise BuildError(result.errors)
        return name

    def describe(self) -> list[TokenInfo]:
        return [TokenInfo(t.name, t.kind, t.expected, t.choices()) for t in self._tokens]


def _split(text: str, start: int, end: int, separators: tuple[str, ...]) -> list[tuple[int, int]]:
    """The (start, end) of each part of text[start:end] between any of the separators."""
    spans: list[tuple[int, int]] = []
    at = start
    if len(separators) == 1:
        width = len(separators[0])
        for part in text[start:end].split(separators[0]):
            spans.append((at, at + len(part)))
            at += len(part) + width
        return spans
    while True:
        best = -1
        width = 0
        for separator in separators:
            found = text.find(separator, at, end)
            if found >= 0 and (best < 0 or found < best):
                best, width = found, len(separator)
        if best < 0:
            spans.append((at, end))
            return spans
        spans.append((at, best))
        at = best + width


def _in_order(
    errors: list[Error], fixes: list[_Fix | str | None]
) -> tuple[list[Error], list[_Fix | str | None]]:
    pairs = sorted(
        zip(errors, fixes, strict=True),
        key=lambda pair: (pair[0].token != NAME, pair[0].start, pair[0].end),
    )
    return [e for e, _ in pairs], [f for _, f in pairs]


@functools.lru_cache(maxsize=256)
def _compile(spec: RuleSpec) -> CompiledRule:
    # A RuleSpec can be built by hand; going through the document again applies every
    # check parse_spec makes (the cache makes this a one-off per rule).
    checked = parse_spec(spec.to_data())
    return CompiledRule(checked)


def compile_rule(spec: RuleSpec | Mapping[str, object]) -> CompiledRule:
    """Compile a rule (a `RuleSpec` or its JSON document); cached by the spec."""
    if not isinstance(spec, RuleSpec):
        spec = parse_spec(spec)
    return _compile(spec)
