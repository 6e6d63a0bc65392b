"""Sign-in and member forms. They validate what the user typed and put each error next to
its field; the services in ``accounts.services`` still check the policy and own the writes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError

from koastops.accounts.models import Role
from koastops.accounts.tasks import send_password_reset
from koastops.catalog.models import AdAccount, CatalogStatus
from koastops.core.forms import IdModelMultipleChoiceField, add_service_error, form_field
from koastops.core.widgets import PickerSelectMultiple

NARROWING_HELP = (
    "Only for media buyers: the ad accounts they may use. Choose none for all of the "
    "brand's ad accounts."
)


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email address",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )


class MemberSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, strip=True)

    def search(self) -> str:
        return self.cleaned_data.get("q", "") if self.is_valid() else ""


class _MemberFormMixin(forms.Form):
    """Role and ad-account narrowing, shared by the invite and the change-role forms.

    The form only parses: which role, which of the brand's ad accounts. The rules (only a
    media buyer is narrowed, only to active ad accounts of the brand) are the service's,
    so the page and the API refuse the same input with the same message. ``ad_accounts``
    offers the brand's active ad accounts; an id of another brand fails by the field with
    the service's wording.
    """

    role = forms.ChoiceField(choices=Role.choices)
    ad_accounts = IdModelMultipleChoiceField(
        queryset=AdAccount.objects.none(),
        required=False,
        help_text=NARROWING_HELP,
        widget=PickerSelectMultiple(attrs={"size": 4}, placeholder="Type an ad account name…"),
        error_messages={"invalid_choice": "Choose ad accounts of this brand only."},
    )

    def __init__(self, *args: Any, ad_accounts: Sequence[AdAccount], **kwargs: Any) -> None:
        """``ad_accounts``: all of the brand's (archived ones too, which the service refuses
        with its reason); only the active ones are offered."""
        super().__init__(*args, **kwargs)
        field = form_field(self, "ad_accounts", IdModelMultipleChoiceField)
        field.queryset = AdAccount.objects.filter(pk__in=[account.pk for account in ad_accounts])
        # Render from the list the page already holds (no query per rendered select).
        field.choices = [
            (account.pk, account.name)
            for account in ad_accounts
            if account.status == CatalogStatus.ACTIVE
        ]

    def add_service_error(self, error: ValidationError) -> None:
        """Attach a service's ``ValidationError``: by the field when the form shows it."""
        add_service_error(self, error)


class MemberInviteForm(_MemberFormMixin):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    full_name = forms.CharField(label="Full name", max_length=150, required=False)
    # The least powerful role is preselected: a stray click never invites an ops lead.
    role = forms.ChoiceField(
        choices=Role.choices,
        initial=Role.ANALYST.value,
        help_text=(
            "Analysts read the brand and export its activity; legal reviewers also sign off "
            "consent; media buyers draft launches; ops leads manage its catalog and members."
        ),
    )
    field_order = ["email", "full_name", "role", "ad_accounts"]


class MemberRoleForm(_MemberFormMixin):
    pass


class EnqueuingPasswordResetForm(PasswordResetForm):
    """Django's reset form sends the email in the request (an SMTP hiccup is a 500, a slow
    server a slow page, and the link's host comes from the request). This one enqueues
    ``accounts.send_password_reset`` for each matching active user instead; the worker
    builds the link from ``SITE_URL``. The page answers the same whether or not the
    address belongs to anyone."""

    def save(self, *args: Any, **kwargs: Any) -> None:
        for user in self.get_users(self.cleaned_data["email"]):
            send_password_reset.delay_on_commit(user_id=user.pk)
