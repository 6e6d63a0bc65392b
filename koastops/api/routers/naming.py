"""API: naming rules (under /api/v1/brands/{slug}/…).

- ``GET naming-rules`` (``naming.view``): every level's effective rule, where it comes
  from (``brand`` / ``default`` / ``none``) and its version.
- ``POST naming/validate`` (``naming.view``; a read, POST for its body): up to 10,000
  names checked against one level's rule, answered in input order. The rule is compiled
  once per version (``koastops.taxonomy.rules``) and the answer is written as JSON
  directly — per-name response models would cost more than the check itself.
- ``PUT naming-rules/{level}`` (``naming.manage``): set the brand's own rule, with
  ``If-Match`` (the brand's own rule's version, ``"0"`` when it has none yet).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from ninja import Field, Header, Router, Schema, Status

from koastops.accounts.http import ApiRequest
from koastops.api.common import brand_with_capability, responses
from koastops.api.schemas import VersionErrorOut
from koastops.core.exceptions import StaleVersion
from koastops.taxonomy import rules, services
from koastops.taxonomy.catalogue import NAMING_LEVELS

router = Router(tags=["naming"])

MAX_NAMES = 10_000
MAX_NAME_LENGTH = 1000


class NamingRuleOut(Schema):
    level: str
    label: str
    source: Literal["brand", "default", "none"] = Field(
        description="brand: the brand's own rule; default: the install default; none: no rule."
    )
    version: int | None = Field(description="The version of the rule in effect.")
    brand_version: int = Field(
        description="The brand's own rule's version (0: none) — the If-Match of a PUT."
    )
    spec: dict[str, Any] | None = Field(description="The rule document (null: no rule).")
    valid: bool = Field(description="False when the stored rule cannot be compiled.")
    updated_at: datetime | None


class NamingRulesOut(Schema):
    items: list[NamingRuleOut]


class ValidateIn(Schema):
    level: str = Field(max_length=32, description="One of " + ", ".join(NAMING_LEVELS) + ".")
    names: list[Annotated[str, Field(max_length=MAX_NAME_LENGTH)]] = Field(
        max_length=MAX_NAMES, description=f"Up to {MAX_NAMES:,} names of ≤ {MAX_NAME_LENGTH} chars."
    )


class NameErrorOut(Schema):
    token: str = Field(description='The token, "(name)" or "(structure)".')
    value: str
    expected: str
    suggestion: str | None
    message: str
    start: int
    end: int


class NameResultOut(Schema):
    name: str
    valid: bool
    errors: list[NameErrorOut]
    corrected: str | None


class ValidateOut(Schema):
    results: list[NameResultOut]


class RuleIn(Schema):
    spec: dict[str, Any] = Field(description="The rule document (see docs/taxonomy.md).")


IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description='The brand rule\'s version, e.g. "3" ("0": none yet).'),
]


def _rule_out(item: rules.LevelRule) -> dict[str, Any]:
    rule = item.rule
    return {
        "level": item.level,
        "label": item.label,
        "source": item.source,
        "version": rule.version if rule is not None else None,
        "brand_version": item.own.version if item.own is not None else 0,
        "spec": rule.spec if rule is not None else None,
        "valid": rule is not None and item.compiled is not None,
        "updated_at": rule.updated_at if rule is not None else None,
    }


@router.get(
    "/brands/{slug}/naming-rules",
    response=responses({200: NamingRulesOut}, errors=(401, 403, 404)),
)
def naming_rule_list(request: ApiRequest, slug: str) -> Any:
    """Every level's effective naming rule for the brand."""
    brand, _ = brand_with_capability(request, slug, "naming.view")
    return {"items": [_rule_out(item) for item in rules.level_rules(brand)]}


@router.post("/brands/{slug}/naming/validate", response=responses({200: ValidateOut}))
def naming_validate(request: ApiRequest, slug: str, payload: ValidateIn) -> Any:
    """Check names against the brand's rule for ``level``; results in input order. A level
    without a (valid) rule is 422 on ``level``."""
    brand, _ = brand_with_capability(request, slug, "naming.view")
    if payload.level not in NAMING_LEVELS:
        raise ValidationError({"level": f"Expected one of {', '.join(NAMING_LEVELS)}."})
    item = rules.level_rule(brand, payload.level)
    if item.compiled is None:
        reason = (
            "has no naming rule" if item.rule is None else "has a naming rule that is not valid"
        )
        raise ValidationError({"level": f"The {item.label.lower()} level {reason}."})
    results = [
        {
            "name": result.name,
            "valid": result.valid,
            "errors": [
                {
                    "token": e.token,
                    "value": e.value,
                    "expected": e.expected,
                    "suggestion": e.suggestion,
                    "message": e.message,
                    "start": e.start,
                    "end": e.end,
                }
                for e in result.errors
            ],
            "corrected": result.corrected,
        }
        for result in item.compiled.validate_many(payload.names)
    ]
    return HttpResponse(
        json.dumps({"results": results}, ensure_ascii=False),
        content_type="application/json",
    )


def _expected(if_match: str | None) -> int | None:
    """``If-Match`` as the service's ``expected_version`` (0 → None: no own rule yet)."""
    if if_match is None or not if_match.strip():
        raise _Refused(
            428,
            'This write needs If-Match: "<version>" ("0" when the brand has no rule of its own yet).',
            None,
        )
    value = if_match.strip().removeprefix("W/").strip('"')
    if not (value.isascii() and value.isdigit() and len(value) <= 9):
        raise ValidationError({"If-Match": 'If-Match must be one version, e.g. "3".'})
    return int(value) or None


class _Refused(Exception):
    def __init__(self, status: int, detail: str, version: int | None) -> None:
        super().__init__(detail)
        self.status = status
        self.body = {"detail": detail, "field": "If-Match", "version": version}


@router.put(
    "/brands/{slug}/naming-rules/{level}",
    response=responses({200: NamingRuleOut, 409: VersionErrorOut, 428: VersionErrorOut}),
)
def naming_rule_put(
    request: ApiRequest,
    slug: str,
    level: str,
    payload: RuleIn,
    response: HttpResponse,
    if_match: IfMatch = None,
) -> Any:
    """Set the brand's own rule for ``level`` (an override of the install default when it
    had none). Needs If-Match; 409 when the rule changed meanwhile; 422 names each
    problem of the document by its path (``spec.tokens.objective.values[2].value``)."""
    brand, _ = brand_with_capability(request, slug, "naming.manage")
    if level not in NAMING_LEVELS:
        raise ValidationError({"level": f"Expected one of {', '.join(NAMING_LEVELS)}."})
    try:
        expected = _expected(if_match)
        try:
            services.naming_rule_save(
                user=request.auth,
                brand=brand,
                level=level,
                spec=payload.spec,
                expected_version=expected,
            )
        except StaleVersion as exc:
            raise _Refused(
                409,
                f"The rule changed meanwhile: If-Match is version {exc.expected_version}, the "
                f"current version is {exc.current_version}. Nothing was changed.",
                exc.current_version,
            ) from exc
    except _Refused as refused:
        return Status(refused.status, refused.body)
    item = rules.level_rule(brand, level)
    response["ETag"] = f'"{item.own.version if item.own else 0}"'
    return _rule_out(item)
