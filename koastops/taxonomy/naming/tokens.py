"""Per-token checkers of a compiled naming rule: one class per token kind.

Each checker has a quick `fast` test for the valid path and a memoised `find` that says
what is wrong with a text and what it probably should be (aliases, edit distance,
re-laid dates, zero padding).
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import OSA

from .spec import CHARSETS, DateToken, FreeToken, NumberToken, TokenSpec, VocabularyToken

EN_DASH = "\u2013"  # ranges read like "1 to 30" with an en dash, as the product writes them
MEMO_LIMIT = 20_000  # findings remembered per token (then forgotten all at once)
MEMO_TEXT_LIMIT = 200


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True, slots=True)
class Finding:
    """Why one token's text is wrong, and what it probably should be."""

    detail: str
    suggestion: str | None = None


def show(text: str, limit: int = 40) -> str:
    """Text for a message: quoted, shortened, with unprintable characters escaped."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    if not text.isprintable():
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return f"`{text}`"


class Token:
    kind: str
    expected: str

    def __init__(self, name: str) -> None:
        self.name = name
        self._memo: dict[str, Finding | None] = {}

    def fast(self, text: str) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def fast_check(self) -> Callable[[str], object]:
        """The quickest callable telling, by its truth, whether text is valid as written."""
        return self.fast

    def canonical(self, text: str) -> str:
        return text

    def choices(self) -> tuple[Choice, ...]:
        return ()

    def find(self, text: str) -> Finding | None:
        """None if `text` is acceptable (case aside), else why not; memoised."""
        try:
            return self._memo[text]
        except KeyError:
            pass
        finding = self._find(text)
        if len(text) <= MEMO_TEXT_LIMIT:  # a hostile 10,000-character part is not kept
            if len(self._memo) >= MEMO_LIMIT:
                self._memo.clear()
            self._memo[text] = finding
        return finding

    def _find(self, text: str) -> Finding | None:  # pragma: no cover - overridden
        raise NotImplementedError


class _Vocabulary(Token):
    kind = "vocabulary"

    def __init__(self, name: str, spec: VocabularyToken, case: str) -> None:
        super().__init__(name)
        self._display = tuple(recase(v.value, case) for v in spec.values)
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
        self.expected = "one of " + enumerate_values(self._display)

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

    def _find(self, text: str) -> Finding | None:
        key = text.lower()
        if key in self._by_lower:
            return None
        if key in self._aliases:
            return Finding("is not allowed", self._aliases[key])
        return Finding("is not allowed", self._nearest(key))

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


class _Date(Token):
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
        self._length = sum(self._WIDTH.get(p, 1) for p in spec.parts)
        self.expected = f"a date {spec.format}"

    def fast(self, text: str) -> bool:
        known = self._valid.get(text)
        if known is not None:
            return known
        if len(text) != self._length:  # a date has one length: nothing else is kept
            return False
        valid = self._problem(text) is None
        if len(self._valid) >= MEMO_LIMIT:
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

    def _find(self, text: str) -> Finding | None:
        problem = self._problem(text)
        if problem is None:
            return None
        return Finding(problem, self._reformat(text) if "real date" not in problem else None)

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


class _Free(Token):
    kind = "free"

    def __init__(self, name: str, spec: FreeToken) -> None:
        super().__init__(name)
        chars, description = CHARSETS[spec.charset]
        self._chars = frozenset(chars)
        self._low, self._high = spec.min_length, spec.max_length
        klass = "[" + "".join(re.escape(c) for c in chars) + "]"
        self._regex = re.compile(f"{klass}{{{self._low},{self._high}}}")
        size = f"{self._low}" if self._low == self._high else f"{self._low}{EN_DASH}{self._high}"
        self.expected = f"{size} {description}"
        self._lower_only = spec.charset in ("lower_alnum", "slug")

    def fast(self, text: str) -> bool:
        return self._regex.fullmatch(text) is not None

    def fast_check(self) -> Callable[[str], object]:
        return self._regex.fullmatch

    def _find(self, text: str) -> Finding | None:
        if self._regex.fullmatch(text):
            return None
        if not self._low <= len(text) <= self._high:
            detail = f"has {len(text)} characters"
        else:
            bad = next(c for c in text if c not in self._chars)
            detail = f"contains {show(bad)}"
        suggestion = None
        if self._lower_only and self._regex.fullmatch(text.lower()):
            suggestion = text.lower()
        return Finding(detail, suggestion)


class _Number(Token):
    kind = "number"

    def __init__(self, name: str, spec: NumberToken) -> None:
        super().__init__(name)
        self._low_digits, self._high_digits = spec.min_digits, spec.max_digits
        self._regex = re.compile(f"[0-9]{{{spec.min_digits},{spec.max_digits}}}")
        self._minimum, self._maximum = spec.minimum, spec.maximum
        digits = (
            f"{spec.min_digits}"
            if spec.min_digits == spec.max_digits
            else f"{spec.min_digits}{EN_DASH}{spec.max_digits}"
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

    def _find(self, text: str) -> Finding | None:
        problem = self._problem(text)
        if problem is None:
            return None
        suggestion = None
        if text.isascii() and text.isdigit() and len(text) <= 40:
            candidate = str(int(text)).zfill(self._low_digits)
            if candidate != text and self._problem(candidate) is None:
                suggestion = candidate
        return Finding(problem, suggestion)


def token_message(token: Token, text: str, finding: Finding) -> str:
    if finding.suggestion is not None:
        hint = f"did you mean {show(finding.suggestion)}?"
    else:
        hint = f"expected {token.expected}."
    return f"{token.name}: {show(text)} {finding.detail}; {hint}"


def recase(text: str, case: str) -> str:
    if case == "lower":
        return text.lower()
    if case == "upper":
        return text.upper()
    return text


def enumerate_values(values: tuple[str, ...], shown: int = 12) -> str:
    if len(values) <= shown:
        return ", ".join(values)
    return ", ".join(values[:shown]) + f", … ({len(values)} values)"


def make_token(name: str, spec: TokenSpec, case: str) -> Token:
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
