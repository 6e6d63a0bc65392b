"""The launch state machine, as data: which state each intent starts from and where it
goes. The services compare-and-set on these (``state`` and ``version`` under a row lock),
so two concurrent intents cannot both win.

draft → checking → ready / needs changes → in review → approved / rejected → launched;
cancelled from any state before launched.

- ``submit`` (draft, ready, needs changes) → checking, asking for review: when the run
  ends the launch goes to in review (blocking failures show there; an ops lead approves
  only with a written override of each).
- ``rerun`` (draft, ready, needs changes, in review) → checking; from in review it goes
  back to in review when the run ends (e.g. after the legal reviewer signed off).
- the run's end (checking) → in review when review was asked for, else ready (no blocking
  failure) or needs changes.
- ``request_changes`` (in review) → needs changes; ``approve`` / ``reject`` (in review).
- ``edit`` (draft, ready, needs changes, in review, approved) → draft: the checks and any
  approval were for other content. Refused while checking (wait, or cancel) and after a
  decision that ends the launch (rejected, launched, cancelled: duplicate it instead).
- ``mark_launched`` (approved) → launched; ``cancel`` (anything before launched).
"""

from __future__ import annotations

from koastops.launches.models import LaunchState as S

EDITABLE = frozenset({S.DRAFT, S.READY, S.NEEDS_CHANGES, S.IN_REVIEW, S.APPROVED})
SUBMITTABLE = frozenset({S.DRAFT, S.READY, S.NEEDS_CHANGES})
RERUNNABLE = frozenset({S.DRAFT, S.READY, S.NEEDS_CHANGES, S.IN_REVIEW})
REVIEWABLE = frozenset({S.IN_REVIEW})
EXPORTABLE = frozenset({S.APPROVED, S.LAUNCHED})
CANCELLABLE = frozenset(set(S) - {S.LAUNCHED, S.CANCELLED})
FINAL = frozenset({S.REJECTED, S.LAUNCHED, S.CANCELLED})

# The sentence a refused intent shows, per state it was refused in.
WHY_NOT: dict[str, str] = {
    S.CHECKING: "The checks are running; wait for them to finish, or cancel the launch.",
    S.IN_REVIEW: "The launch is waiting for an ops lead's review.",
    S.APPROVED: "The launch is approved.",
    S.REJECTED: "The launch was rejected; duplicate it to start again.",
    S.LAUNCHED: "The launch is live.",
    S.CANCELLED: "The launch was cancelled; duplicate it to start again.",
    S.DRAFT: "The launch is a draft: submit it first.",
    S.READY: "The launch has not been submitted for review.",
    S.NEEDS_CHANGES: "The launch needs changes and has not been submitted again.",
}
