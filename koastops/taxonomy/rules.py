"""The Django side of the naming rules: which rule applies to a brand's level, compiled
once per process, and the readable pieces the pages and the API show.

The engine (``koastops.taxonomy.naming``) knows nothing of rows; here a stored rule is
compiled once per ``(pk, version)`` — every save bumps the version, so a changed rule is
never served from the cache. The cached entry keeps the document it was compiled from and
is used only while the row still holds that document (a test database, or a restored
backup, can hand out the same pk and version for another rule).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from koastops.catalog.models import Brand
from koastops.taxonomy import selectors
from koastops.taxonomy.catalogue import NAMING_LEVELS
from koastops.taxonomy.models import NamingRule
from koastops.taxonomy.naming import (
    CompiledRule,
    RuleSpec,
    SpecError,
    VocabularyToken,
    compile_rule,
)

SOURCE_BRAND = "brand"
SOURCE_DEFAULT = "default"
SOURCE_NONE = "none"
SOURCE_LABELS = {
    SOURCE_BRAND: "Brand rule",
    SOURCE_DEFAULT: "Install default",
    SOURCE_NONE: "No rule",
}

_CACHE_LIMIT = 512
_cache: dict[tuple[int, int], tuple[Any, CompiledRule | SpecError]] = {}
_cache_lock = threading.Lock()


def compiled(rule: NamingRule) -> CompiledRule:
    """The stored rule compiled (once per pk and version); ``SpecError`` when the stored
    document is not a valid rule (rows written past the service, e.g. by hand)."""
    key = (rule.pk, rule.version)
    hit = _cache.get(key)
    if hit is not None and hit[0] == rule.spec:
        outcome = hit[1]
    else:
        try:
            outcome = compile_rule(rule.spec)
        except SpecError as exc:
            outcome = exc
        with _cache_lock:
            if len(_cache) >= _CACHE_LIMIT:
                _cache.clear()
            _cache[key] = (rule.spec, outcome)
    if isinstance(outcome, SpecError):
        raise outcome
    return outcome


def cache_clear() -> None:
    with _cache_lock:
        _cache.clear()


def compile_document(spec: Mapping[str, Any]) -> CompiledRule:
    """An unsaved rule document (the editor's form state) compiled; ``SpecError``."""
    return compile_rule(spec)


@dataclass(frozen=True)
class LevelRule:
    """What applies to one level: the rule row, where it comes from, and its compiled
    form (None when there is no rule, or the stored one is broken: ``problems``)."""

    level: str
    label: str
    source: str
    rule: NamingRule | None
    own: NamingRule | None
    default: NamingRule | None
    compiled: CompiledRule | None
    problems: tuple[str, ...] = field(default=())

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS[self.source]

    @property
    def version(self) -> int | None:
        return self.rule.version if self.rule is not None else None


def _level_rule(
    level: str,
    label: str,
    own: NamingRule | None,
    default: NamingRule | None,
) -> LevelRule:
    rule = own or default
    source = SOURCE_BRAND if own else SOURCE_DEFAULT if default else SOURCE_NONE
    problems: tuple[str, ...] = ()
    compiled_rule = None
    if rule is not None:
        try:
            compiled_rule = compiled(rule)
        except SpecError as exc:
            problems = tuple(f"{path}: {message}" for path, message in exc.errors)
    return LevelRule(level, label, source, rule, own, default, compiled_rule, problems)


def level_rules(brand: Brand) -> list[LevelRule]:
    """Every level's effective rule for the brand, in level order (one query)."""
    return [
        _level_rule(item.level, item.label, item.own, item.default)
        for item in selectors.effective_rules(brand)
    ]


def default_level_rules() -> list[LevelRule]:
    """Every level's install-wide default (one query)."""
    defaults = selectors.default_rules()
    return [
        _level_rule(level, label, None, defaults.get(level))
        for level, label in NAMING_LEVELS.items()
    ]


def level_rule(brand: Brand | None, level: str) -> LevelRule:
    """One level's effective rule (``brand=None``: the install default), one query."""
    label = NAMING_LEVELS[level]
    if brand is None:
        return _level_rule(
            level, label, None, NamingRule.objects.filter(brand__isnull=True, level=level).first()
        )
    rows = list(NamingRule.objects.filter(Q(brand=brand) | Q(brand__isnull=True), level=level))
    own = next((r for r in rows if r.brand_id), None)
    default = next((r for r in rows if not r.brand_id), None)
    return _level_rule(level, label, own, default)


# --- readable pieces ---------------------------------------------------------------------

DATE_FORMATS = ("YYYYMM", "YYYYMMDD", "YYYY-MM-DD", "YYYY-MM", "YYMMDD", "YYMM", "YYYY")


@dataclass(frozen=True)
class TokenRow:
    """One token of a rule as the rules page shows it."""

    token: str
    kind: str
    expected: str
    values: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (value, label, aliases)


def token_rows(rule: CompiledRule) -> list[TokenRow]:
    """The rule's tokens, with the engine's wording of what each expects."""
    spec: RuleSpec = rule.spec
    expected = {info.token: info.expected for info in rule.describe()}
    rows = []
    for name, token in spec.tokens:
        values: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
        if isinstance(token, VocabularyToken):
            values = tuple((v.value, v.label, v.aliases) for v in token.values)
        rows.append(TokenRow(name, token.kind, expected.get(name, ""), values))
    return rows


def vocabulary_lines(values: Any) -> str:
    """A vocabulary as the editor's textarea shows it: ``value | label | alias, alias``."""
    lines = []
    for item in values if isinstance(values, list | tuple) else ():
        if not isinstance(item, Mapping):
            continue
        value = str(item.get("value", ""))
        label = str(item.get("label") or "")
        aliases = item.get("aliases") or []
        alias_text = ", ".join(str(a) for a in aliases) if isinstance(aliases, list) else ""
        parts = [value]
        if label or alias_text:
            parts.append(label)
        if alias_text:
            parts.append(alias_text)
        lines.append(" | ".join(parts))
    return "\n".join(lines)


def parse_vocabulary_lines(text: str) -> tuple[list[dict[str, Any]], list[int], list[str]]:
    """The textarea back to values: (values, the line number of each, problems)."""
    values: list[dict[str, Any]] = []
    numbers: list[int] = []
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = [part.strip() for part in line.split("|")]
        if len(parts) > 3:
            problems.append(
                f"Line {number}: at most three parts (value | label | aliases), found {len(parts)}."
            )
            continue
        value = parts[0]
        label = parts[1] if len(parts) > 1 else ""
        aliases = [a.strip() for a in parts[2].split(",") if a.strip()] if len(parts) > 2 else []
        values.append({"value": value, "label": label, "aliases": aliases})
        numbers.append(number)
    return values, numbers, problems


# --- default vocabularies (where a new rule starts from) -------------------------------------

# Campaign objectives as media buyers abbreviate them (Meta's objectives, plus the aliases
# people type), for a new rule's {objective} token.
OBJECTIVES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("awareness", "Awareness", ("reach",)),
    ("traffic", "Traffic", ()),
    ("engagement", "Engagement", ()),
    ("lead", "Lead generation", ("leads", "leadgen")),
    ("app", "App promotion", ("apps",)),
    ("sales", "Sales", ("conv", "conversions")),
)


def objective_vocabulary() -> list[dict[str, Any]]:
    return [
        {"value": value, "label": label, "aliases": list(aliases)}
        for value, label, aliases in OBJECTIVES
    ]


def market_vocabulary(brand: Brand | None) -> list[dict[str, Any]]:
    """The brand's markets as vocabulary values (``de`` — Germany), one query; Germany
    alone for a brand without markets (or an install default)."""
    markets = list(brand.markets.order_by("code").values_list("code", "name")) if brand else []
    if not markets:
        markets = [("DE", "Germany")]
    return [{"value": code.lower(), "label": name, "aliases": []} for code, name in markets]


def starter_spec(brand: Brand | None) -> dict[str, Any]:
    """A first rule for a level that has none: market, objective, month and free text."""
    return {
        "template": "{market}_{objective}_{yyyymm}_{free}",
        "case": "lower",
        "max_length": 120,
        "tokens": {
            "market": {"kind": "vocabulary", "values": market_vocabulary(brand)},
            "objective": {"kind": "vocabulary", "values": objective_vocabulary()},
            "yyyymm": {"kind": "date", "format": "YYYYMM"},
            "free": {"kind": "free", "min_length": 1, "max_length": 30, "charset": "alnum_dash"},
        },
    }
