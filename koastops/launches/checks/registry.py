"""The checklist: a registry of checks, one function per check.

A check is registered with a key, a title, a severity (blocking or advisory) and a
function ``fn(ctx: CheckContext) -> Outcome``::

    @registry.check("consent.signed_off", "Every market has a valid consent sign-off",
                    severity=Severity.BLOCKING)
    def consent_signed_off(ctx):
        ...
        return Outcome.fail("DE has no valid sign-off: ask a legal reviewer.", missing=["DE"])

The status is one of pass / warn / fail / error; the message is one a media buyer can act
on; ``details`` is JSON the pages show (lists of names, values and thresholds). A check
that raises is recorded as "error" by the runner with a generic message (the exception
goes to the log, never to the page). Checks are independent of each other: the runner
executes each as its own task, in parallel, and writes each result as it completes.

Check modules live next to this one and are imported by ``checks/__init__.py``, in the
order the checklist shows them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from koastops.launches.models import CheckStatus, Launch, Severity


@dataclass(frozen=True)
class Outcome:
    status: str  # CheckStatus value, never "pending" / "running"
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def passed(cls, message: str, **details: Any) -> Outcome:
        return cls(CheckStatus.PASS, message, details)

    @classmethod
    def warn(cls, message: str, **details: Any) -> Outcome:
        return cls(CheckStatus.WARN, message, details)

    @classmethod
    def fail(cls, message: str, **details: Any) -> Outcome:
        return cls(CheckStatus.FAIL, message, details)

    @classmethod
    def error(cls, message: str, **details: Any) -> Outcome:
        return cls(CheckStatus.ERROR, message, details)


@dataclass
class CheckContext:
    """What a check reads: the launch with its structure (``selectors.with_structure``),
    the user the run acts as (the submitter: checks that depend on permissions ask the
    policy module about them at run time), the moment the run is evaluated at, and a
    per-run cache for values several checks read (``ctx.memo(key, compute)``)."""

    launch: Launch
    run_as: Any
    now: dt.datetime
    cache: dict[str, Any] = field(default_factory=dict)

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]


CheckFn = Callable[[CheckContext], Outcome]


@dataclass(frozen=True)
class Check:
    key: str
    title: str
    severity: str
    fn: CheckFn
    description: str = ""  # what it checks and how to fix it (docs, the check's tooltip)


_REGISTRY: dict[str, Check] = {}


def check(
    key: str, title: str, *, severity: str = Severity.BLOCKING, description: str = ""
) -> Callable[[CheckFn], CheckFn]:
    """Register ``fn`` as the check ``key`` (a key registered twice is a bug)."""

    def decorator(fn: CheckFn) -> CheckFn:
        if key in _REGISTRY and _REGISTRY[key].fn is not fn:
            raise ValueError(f"Check {key!r} is registered twice.")
        _REGISTRY[key] = Check(key, title, str(severity), fn, description or (fn.__doc__ or ""))
        return fn

    return decorator


def all_checks() -> list[Check]:
    """Every registered check, in registration order (the checklist's order)."""
    import koastops.launches.checks  # noqa: F401  (registers the check modules)

    return list(_REGISTRY.values())


def get(key: str) -> Check:
    all_checks()
    return _REGISTRY[key]


def evaluate(entry: Check, ctx: CheckContext) -> Outcome:
    """Run one check; an exception becomes an "error" outcome with a message the media
    buyer can act on (the exception itself goes to the log, never to the page)."""
    import logging

    try:
        outcome = entry.fn(ctx)
    except Exception:  # a check's bug or an unreadable dependency: error, not a crash
        logging.getLogger(__name__).exception(
            "check %s failed on launch %s", entry.key, ctx.launch.pk
        )
        return Outcome.error(
            "This check could not run. Re-run the checks; if it fails again, tell an admin."
        )
    if not isinstance(outcome, Outcome) or outcome.status not in (
        CheckStatus.PASS,
        CheckStatus.WARN,
        CheckStatus.FAIL,
        CheckStatus.ERROR,
    ):
        return Outcome.error("This check returned no result. Tell an admin.")
    return outcome
