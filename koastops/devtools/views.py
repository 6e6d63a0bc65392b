from __future__ import annotations

from types import SimpleNamespace

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from koastops.accounts import policies
from koastops.core.htmx import HtmxRequest, render_page
from koastops.devtools.mail import outbox_list


@policies.admin_required
@require_GET
def outbox(request: HttpRequest) -> HttpResponse:
    """The development outbox: the last emails the dev mail backend wrote (DEBUG only:
    the URL exists only then)."""
    return render(request, "devtools/outbox.html", {"emails": outbox_list()})


class _SampleForm(forms.Form):
    """Every field state the style guide shows (nothing is saved)."""

    name = forms.CharField(max_length=40, help_text="Shown in the brand list.")
    email = forms.EmailField(help_text="Where invitations go.")
    timezone = forms.ChoiceField(choices=[("", "Choose…"), ("Europe/Berlin", "Europe/Berlin")])
    notes = forms.CharField(widget=forms.Textarea, required=False)
    capi = forms.BooleanField(label="Conversions API on", required=False)
    terms = forms.BooleanField(label="I understand this cannot be undone")


_STATUSES = ("active", "archived", "pending", "done", "error")


def _sample_rows() -> list[SimpleNamespace]:
    rows = []
    for number in range(1, 31):
        status = _STATUSES[number % 4 if number % 7 else 1]
        rows.append(
            SimpleNamespace(
                pk=number,
                name=f"Sample account {number:02d}",
                external_id=f"act_{1000000 + number * 7919}",
                currency=("EUR", "USD", "GBP")[number % 3],
                spend=f"{(number * 1234.5) % 98765:,.2f}",
                events=number * 317 % 5000,
                status=status,
                get_status_display=status.capitalize,
            )
        )
    return rows


@require_GET
def styleguide(request: HtmxRequest) -> HttpResponse:
    """Every UI component in every state (DEBUG only: the URL exists only then). Signed-in
    users only, as every page; it shows no data, only made-up samples."""
    invalid = _SampleForm(data={"name": "", "email": "not-an-email", "timezone": ""})
    invalid.is_valid()
    invalid.add_error(None, "Someone else changed this brand while you were editing.")
    page = Paginator(_sample_rows(), 25).get_page(request.GET.get("page"))
    page.querystring = ""  # type: ignore[attr-defined]
    context = {
        "valid_form": _SampleForm(initial={"name": "Koast Coffee", "email": "ops@example.com"}),
        "invalid_form": invalid,
        "page": page,
        "tones": ("ok", "warning", "failing", "unknown", "archived"),
        "sample": SimpleNamespace(status="active", get_status_display=lambda: "Active"),
        "sample_archived": SimpleNamespace(
            status="archived", get_status_display=lambda: "Archived"
        ),
    }
    return render_page(request, "devtools/styleguide.html", context, partial="sg-table")
