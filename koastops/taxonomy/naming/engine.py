"""Compiled naming rules: validate, parse, build and suggest.

A rule compiles once into per-token checkers. The valid path splits the name on its
separators and does one set lookup or precompiled regex per token; everything slower
(structure repair, edit distance) runs only for names that fail, and per-value findings
are memoised per token.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations, islice, pairwise

from rapidfuzz.distance import OSA

from .spec import RuleSpec, parse_spec
from .tokens import Choice, make_token, show, token_message

NAME = "(name)"
STRUCTURE = "(structure)"
# Characters people type by mistake where a separator belongs.
_LIKELY_SEPARATORS = ("_", "-", ".", " ", "|", "+", "~", ":", "/", ",")
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
        self._tokens = tuple(make_token(name, token, spec.case) for name, token in spec.tokens)
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
        # One separator, no prefix or suffix: failures whose only problems are tokens take
        # a short path (_token_errors_only).
        self._simple = self._uniform is not None and not self._prefix and not self._suffix

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
        if self._simple:
            result = self._token_errors_only(name, correct=correct)
            if result is not None:
                return result
        return self._slow_general(name, correct=correct)

    def _token_errors_only(self, name: str, *, correct: bool) -> Result | None:
        """The usual failure, cheaply: the structure, case and length are right and some
        tokens are not. None when the name has any other problem (the general path)."""
        if len(name) > self._max_length or (
            self._recase is not None and self._recase(name) != name
        ):
            return None
        separator = self._uniform or ""
        parts = name.split(separator)
        if len(parts) != len(self._tokens):
            return None
        errors: list[Error] = []
        edits: list[tuple[int, int, str]] | None = []
        at = 0
        for token, part in zip(self._tokens, parts):  # noqa: B905 - same length, checked above
            finding = token.find(part)
            if finding is not None:
                end = at + len(part)
                message = token_message(token, part, finding)
                errors.append(
                    Error(token.name, part, token.expected, finding.suggestion, at, end, message)
                )
                if finding.suggestion is None:
                    edits = None
                elif edits is not None:
                    edits.append((at, end, finding.suggestion))
            at += len(part) + len(separator)
        tokens = dict(zip(self._names, parts))  # noqa: B905 - as above
        if not errors:
            return Result(name, True, tokens)
        corrected = None
        if correct and edits:
            candidate = name
            for start, end, text in reversed(edits):
                candidate = candidate[:start] + text + candidate[end:]
            if self._fast(candidate) is not None or not self._diagnose(candidate).errors:
                corrected = candidate
        return Result(name, False, tokens, tuple(errors), corrected)

    def _slow_general(self, name: str, *, correct: bool) -> Result:
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
                        f"The name must be {self._case} case: {show(recased, 80)}.",
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
            message = token_message(token, text, finding)
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
        return show(self.spec.template, 120)

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
                        f"starts with {show(prefix)}",
                        prefix,
                        0,
                        span_end,
                        f"The name must start with {show(prefix)}.",
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
                        f"ends with {show(suffix)}",
                        suffix,
                        end,
                        length,
                        f"The name must end with {show(suffix)}.",
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
        fits: dict[tuple[int, int, int], bool] = {}
        if len(spans) == count - 1:
            # One part missing, the usual case: the best gap in one pass instead of trying
            # every gap (tokens before it keep their part, tokens after it take the one before).
            before = [self._fit(name, i, spans[i], fits) for i in range(count - 1)]
            after = [self._fit(name, i, spans[i - 1], fits) for i in range(1, count)]
            gap = max(range(count), key=lambda m: (sum(before[:m]) + sum(after[m:]), -m))
            with_gap: list[tuple[int, int] | None] = [*spans[:gap], None, *spans[gap:]]
            candidates.append(
                (with_gap, 1, functools.partial(self._missing, with_gap, (gap,), end))
            )
        elif len(spans) == count + 1:
            # One part too many: likewise, the best part to leave out in one pass.
            before = [self._fit(name, i, spans[i], fits) for i in range(count)]
            after = [self._fit(name, i, spans[i + 1], fits) for i in range(count)]
            left_out = max(range(count + 1), key=lambda x: (sum(before[:x]) + sum(after[x:]), -x))
            without: list[tuple[int, int] | None] = [*spans[:left_out], *spans[left_out + 1 :]]
            candidates.append((without, 1, functools.partial(self._extra, name, [spans[left_out]])))
        elif len(spans) < count and repairable:
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
                    f"{count} parts separated by {show(self._uniform)}",
                    None,
                    start,
                    end,
                    f"Expected {count} parts separated by {show(self._uniform)}, "
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
        return sum(
            self._fit(name, index, span, fits)
            for index, span in enumerate(spans)
            if span is not None
        )

    def _fit(
        self, name: str, index: int, span: tuple[int, int], fits: dict[tuple[int, int, int], bool]
    ) -> bool:
        key = (index, span[0], span[1])
        fit = fits.get(key)
        if fit is None:
            text = name[span[0] : span[1]]
            recase = self._recase
            fit = self._tokens[index].find(recase(text) if recase is not None else text) is None
            fits[key] = fit
        return fit

    def _wrong_separators(
        self, name: str, wrong: list[tuple[int, int]]
    ) -> list[tuple[Error, _Fix | None]]:
        separator = self._uniform or ""
        return [
            (
                Error(
                    STRUCTURE,
                    name[a:b],
                    f"{show(separator)} between parts",
                    separator,
                    a,
                    b,
                    f"Wrong separator {show(name[a:b])} at position {a}; parts are "
                    f"separated by {show(separator)}.",
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
        separator = show(self._uniform or "")
        return [
            (
                Error(
                    STRUCTURE,
                    name[a:b],
                    f"{count} parts separated by {separator}",
                    None,
                    a,
                    b,
                    f"{show(name[a:b])} is an extra part: the rule has {count} parts "
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
                    f"{show(separator)} after {self._names[index]}",
                    None,
                    at,
                    end,
                    f"Expected {show(separator)} after {self._names[index]}; "
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
                f"{show(str(key))} is not a token of this rule.",
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
                            token_message(token, text, finding),
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
