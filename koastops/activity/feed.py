"""The activity page as a feed: one line per entry (when, who, what, target) and its
details, grouped by UTC day. Everything here works on rows already read (no query):
the sentence comes from the verb registry, the details from ``before`` / ``after``.

A creation (nothing before) lists the values set; a removal (nothing after) the values
removed; an update only the fields that changed, old → new. User text is escaped here
(``escape``) or by the template, never marked safe as it is.
"""

from __future__ import annotations

import datetime as dt
import html as html_lib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

from django.utils.safestring import SafeString, mark_safe

from koastops.accounts.models import Role
from koastops.activity.models import ActivityEntry
from koastops.activity.selectors import target_type_label
from koastops.activity.verbs import VERB_INFO
from koastops.catalog.models import Brand
from koastops.core.links import fast_reverse
from koastops.core.templatetags.ui import icon as icon_markup

# Longer values are cut in the details (the exports have them whole).
VALUE_MAX = 80
EMPTY = "—"
# The closed details are cut at this many characters.
PREVIEW_MAX = 60

Kind = Literal["created", "updated", "removed", "none"]

# Readable names of the fields the services record; others are shown humanised.
FIELD_LABELS = {
    "name": "Name",
    "slug": "Slug",
    "description": "Description",
    "status": "Status",
    "currency": "Currency",
    "timezone": "Time zone",
    "platform": "Platform",
    "external_id": "External id",
    "capi_enabled": "Conversions API",
    "ad_accounts": "Ad accounts",
    "access_token": "Access token",
    "markets": "Markets",
    "role": "Role",
    "email": "Email",
    "full_name": "Name",
    "is_active": "Active",
    "is_staff": "Staff",
    "is_superuser": "Superuser",
    "usable_password": "Usable password",
    "expires_at": "Expires",
    "revoked": "Revoked",
}
# Icons (vendored Lucide names, static/vendor/lucide/icons) by the last part of the verb.
ICONS = {
    "created": "plus",
    "invited": "mail",
    "updated": "pencil",
    "archived": "archive",
    "restored": "archive-restore",
    "token_changed": "key-round",
    "token_removed": "key-round",
    "role_granted": "users",
    "role_changed": "users",
    "role_revoked": "users",
    "ad_accounts_narrowed": "shield-check",
    "deactivated": "circle-x",
    "password_changed": "lock",
    "password_reset": "lock",
    "password_set": "lock",
    "revoked": "x",
    "worker_pinged": "server",
}
DEFAULT_ICON = "history"
# The details table's (visually hidden) caption by the kind of change.
CAPTIONS = {"created": "Values set", "removed": "Values removed"}
_EXTERNAL_ID = re.compile(r"\(([^()]+)\)\s*$")


def escape(text: Any) -> str:
    """``django.utils.html.escape`` (the same characters), without its lazy-string wrapper:
    the feed escapes a few hundred values a page."""
    return html_lib.escape(str(text))


@dataclass(frozen=True)
class Detail:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class FeedRow:
    entry: ActivityEntry
    actor: str
    sentence: SafeString
    target_type_label: str
    target_url: str | None
    kind: Kind
    details: list[Detail]
    icon: str
    ago: str
    iso: str  # for <time datetime>
    clock: str  # "09:00" (the day is in the heading)
    stamp: str  # "2026-01-05 09:00:00 UTC" (the title)

    @property
    def pk(self) -> int:
        return self.entry.pk

    @property
    def has_details(self) -> bool:
        return bool(self.details or self.entry.ip or self.entry.request_id)

    @property
    def preview(self) -> str:
        """The closed ``<details>`` in a few words: "Role: Analyst" or "6 values set" (a
        creation), "Name: Main → Main DE" (an update, with "+1 more" if more changed)."""
        details = self.details
        if not details:
            return "Details"
        if self.kind == "updated":
            first = details[0]
            text = f"{first.field}: {first.before} → {first.after}"
            more = f" +{len(details) - 1} more" if len(details) > 1 else ""
        elif len(details) == 1:
            text, more = f"{details[0].field}: {details[0].after or details[0].before}", ""
        else:
            verb = "removed" if self.kind == "removed" else "set"
            text, more = f"{len(details)} values {verb}", ""
        if len(text) > PREVIEW_MAX:
            text = text[: PREVIEW_MAX - 1] + "…"
        return text + more

    @property
    def icon_html(self) -> SafeString:
        return icon_markup(self.icon)

    @property
    def actor_title(self) -> str:
        """The row's label (an email) as a title when the name shown is another text."""
        return self.entry.actor_label if self.actor != self.entry.actor_label else ""

    @property
    def details_html(self) -> SafeString:
        """The ``<details>`` under the line (the values, where the change came from), or
        nothing: markup made here once per row (the feed's hot loop), every value escaped."""
        if not self.has_details:
            return mark_safe("")
        parts = [
            '<details class="feed-details"><summary><span class="visually-hidden">Details: '
            f"</span>{escape(self.preview)}</summary>"
        ]
        if self.details:
            kind = self.kind
            caption = CAPTIONS.get(kind, "Changed fields")
            parts.append(
                f'<table class="feed-changes"><caption class="visually-hidden">{caption}</caption>'
            )
            if kind == "updated":
                parts.append(
                    '<thead><tr><th scope="col">Field</th><th scope="col">Before</th>'
                    '<th scope="col">After</th></tr></thead>'
                )
            parts.append("<tbody>")
            for detail in self.details:
                cells = f'<tr><th scope="row">{escape(detail.field)}</th>'
                if kind != "created":
                    cells += f'<td class="feed-old">{escape(detail.before)}</td>'
                if kind != "removed":
                    cells += f'<td class="feed-new">{escape(detail.after)}</td>'
                parts.append(cells + "</tr>")
            parts.append("</tbody></table>")
        entry = self.entry
        if entry.ip or entry.request_id:
            origin = []
            if entry.ip:
                origin.append(f"From <code>{escape(entry.ip)}</code>")
            if entry.request_id:
                origin.append(f"request <code>{escape(entry.request_id)}</code>")
            parts.append(f'<p class="feed-origin muted">{" · ".join(origin)}</p>')
        parts.append("</details>")
        return mark_safe("".join(parts))  # noqa: S308 - every value in it is escaped

    @property
    def html(self) -> SafeString:
        """The row's ``<li>`` (made here, not by a template loop: the feed's hot path), with
        every value from the row escaped (the sentence and details are escaped where made)."""
        title = self.actor_title
        who = f' title="{escape(title)}"' if title else ""
        return mark_safe(  # noqa: S308 - every value in it is escaped
            f'<li class="feed-entry feed-{self.kind}" id="activity-entry-{self.pk}">\n'
            f'        <time class="feed-when" datetime="{escape(self.iso)}"'
            f' title="{escape(self.stamp)}">{escape(self.clock)}</time>\n'
            f'        <span class="feed-ago muted">{escape(self.ago)}</span>\n'
            '        <div class="feed-main">\n'
            f'        <span class="feed-icon">{self.icon_html}</span>\n'
            f'        <span class="feed-who"{who}>{escape(self.actor)}</span>\n'
            f'        <span class="feed-what">{self.sentence}</span>\n'
            "        </div>\n"
            f"        {self.details_html}\n"
            f'        <span class="feed-type muted">{escape(self.target_type_label)}</span>\n'
            "      </li>"
        )


@dataclass
class FeedDay:
    day: dt.date
    heading: str
    rows: list[FeedRow] = field(default_factory=list)

    @property
    def rows_html(self) -> SafeString:
        """The day's ``<li>`` rows (``FeedRow.html``), one string."""
        return mark_safe("\n      ".join(row.html for row in self.rows))  # noqa: S308


def display(value: Any, *, name: str = "") -> str:
    """A before / after value in words (cut at ``VALUE_MAX``)."""
    if value is None:
        return EMPTY
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif name == "role" and isinstance(value, str) and value in Role.values:
        text = str(Role(value).label)
    elif isinstance(value, str):
        text = value or "(empty)"
    elif isinstance(value, list) and all(isinstance(item, str | int) for item in value):
        text = ", ".join(str(item) for item in value) or "none"
    else:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= VALUE_MAX else text[: VALUE_MAX - 1] + "…"


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name) or name.replace("_", " ").strip().capitalize() or name


def _side(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _is_blank(side: dict[str, Any]) -> bool:
    return all(value is None for value in side.values())


def details_of(entry: ActivityEntry) -> tuple[Kind, list[Detail]]:
    """What the entry changed: the values set (creation), the values removed (removal) or
    the changed fields old → new (update); ``none`` when it records no values."""
    before, after = _side(entry.before), _side(entry.after)
    if _is_blank(before) and not _is_blank(after):
        shown = [
            Detail(field_label(name), "", display(value, name=name))
            for name, value in after.items()
            if value not in (None, "")
        ]
        return "created", shown
    if _is_blank(after) and not _is_blank(before):
        shown = [
            Detail(field_label(name), display(value, name=name), "")
            for name, value in before.items()
            if value is not None
        ]
        return "removed", shown
    names = list(before) + [name for name in after if name not in before]
    changed = [
        Detail(
            field_label(name),
            display(before.get(name), name=name),
            display(after.get(name), name=name),
        )
        for name in names
        if before.get(name) != after.get(name)
    ]
    return ("updated", changed) if changed else ("none", [])


def _role_label(side: Any) -> str:
    value = _side(side).get("role")
    if value is None:
        return "none"
    return display(value, name="role")


_PK = 987654321  # a stand-in id, replaced in the reversed URL (one reverse per page)


class _Urls:
    """The brand's page URLs the feed links to, each reversed once per page."""

    def __init__(self, brand: Brand) -> None:
        self.brand = brand
        self._cache: dict[str, str] = {}

    def _get(self, name: str, *args: Any) -> str:
        if name not in self._cache:
            self._cache[name] = fast_reverse(name, args=[self.brand.slug, *args])
        return self._cache[name]

    def brand_detail(self) -> str:
        return self._get("catalog:brand_detail")

    def pixel(self, pk: int) -> str:
        return self._get("catalog:pixel_detail", _PK).replace(str(_PK), str(pk))

    def ad_accounts(self) -> str:
        return self._get("catalog:ad_account_list")

    def event(self, pk: int) -> str:
        return self._get("taxonomy:event_detail", _PK).replace(str(_PK), str(pk))

    def members(self) -> str:
        return self._get("members:list")


def target_url(entry: ActivityEntry, brand: Brand, urls: _Urls | None = None) -> str | None:
    """Where the entry's target opens, for the kinds of object that have a page (rows
    reach the page only when the user may see their target: ``policies.activity_for``)."""
    urls = urls or _Urls(brand)
    kind, pk = entry.target_type, entry.target_id
    if kind == "catalog.brand" and pk == str(brand.pk):
        return urls.brand_detail()
    if kind == "catalog.pixel" and pk.isascii() and pk.isdigit():
        return urls.pixel(int(pk))
    if kind == "taxonomy.eventdefinition" and pk.isascii() and pk.isdigit():
        return urls.event(int(pk))
    if kind == "catalog.adaccount":
        # No page of its own: the list, searched for its external id ("Name (id)").
        found = _EXTERNAL_ID.search(entry.target_label)
        if found:
            return urls.ad_accounts() + "?" + urlencode({"q": found.group(1), "status": "all"})
        return None
    if kind == "accounts.user" and entry.target_label:
        return urls.members() + "?" + urlencode({"q": entry.target_label})
    return None


def sentence_of(entry: ActivityEntry, url: str | None) -> SafeString:
    """ "archived the pixel <strong>X</strong>", the target a link when it has a page."""
    label = escape(entry.target_label or entry.target_id)
    if url:
        target = f'<a href="{escape(url)}"><strong>{label}</strong></a>'
    else:
        target = f"<strong>{label}</strong>"
    info = VERB_INFO.get(entry.verb)
    if info is None:  # a verb no longer registered: its code, then the target
        return mark_safe(f"<code>{escape(entry.verb)}</code> {target}")  # noqa: S308 - escaped
    sentence = info.sentence
    parts = {"target": target}
    if "{role}" in sentence:
        parts["role"] = f"<strong>{escape(_role_label(entry.after))}</strong>"
    if "{old_role}" in sentence:
        parts["old_role"] = f"<strong>{escape(_role_label(entry.before))}</strong>"
    # As format_html: the registry's sentence is trusted markup, every value escaped.
    return mark_safe(sentence.format(**parts))  # noqa: S308 - every value in it is escaped


_UNITS = (
    ("year", 365 * 86400),
    ("month", 30 * 86400),
    ("week", 7 * 86400),
    ("day", 86400),
    ("hour", 3600),
    ("minute", 60),
)


def ago(moment: dt.datetime, now: dt.datetime) -> str:
    """ "3 hours ago" (the largest whole unit; cheaper than ``timesince`` per row)."""
    seconds = int((now - moment).total_seconds())
    if seconds < 60:
        return "just now"
    for unit, size in _UNITS:
        if seconds >= size:
            count = seconds // size
            return f"{count}\xa0{unit}{'' if count == 1 else 's'} ago"
    return "just now"  # unreachable: a minute or more matched above


def day_heading(day: dt.date, today: dt.date) -> str:
    if day == today:
        return "Today"
    if day == today - dt.timedelta(days=1):
        return "Yesterday"
    return f"{day:%A} {day.day} {day:%B %Y}"


def feed_days(
    entries: Iterable[ActivityEntry],
    *,
    brand: Brand,
    now: dt.datetime,
    names: dict[int, str] | None = None,
) -> list[FeedDay]:
    """The entries (newest first, already redacted) as feed rows grouped by UTC day.
    ``names``: actors' current names by user id (else the row's label, an email)."""
    names = names or {}
    now = now.astimezone(dt.UTC)
    today = now.date()
    type_labels: dict[str, str] = {}
    urls = _Urls(brand)
    days: list[FeedDay] = []
    for entry in entries:
        if entry.target_type not in type_labels:
            type_labels[entry.target_type] = target_type_label(entry.target_type)
        created = entry.created_at.astimezone(dt.UTC)
        if not days or days[-1].day != created.date():
            days.append(FeedDay(day=created.date(), heading=day_heading(created.date(), today)))
        url = target_url(entry, brand, urls)
        kind, details = details_of(entry)
        days[-1].rows.append(
            FeedRow(
                entry=entry,
                actor=names.get(entry.actor_id or 0) or entry.actor_label or "system",
                sentence=sentence_of(entry, url),
                target_type_label=type_labels[entry.target_type],
                target_url=url,
                kind=kind,
                details=details,
                icon=ICONS.get(entry.verb.partition(".")[2], DEFAULT_ICON),
                ago=ago(created, now),
                iso=created.isoformat(),
                clock=f"{created:%H:%M}",
                stamp=f"{created:%Y-%m-%d %H:%M:%S} UTC",
            )
        )
    return days
