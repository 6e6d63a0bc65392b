"""Sign-in and member forms. They validate what the user typed and put each error next to
its field; the services in ``accounts.services`` still check the policy and own the writes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from koastops.accounts.models import Role
from koastops.catalog.models import AdAccount
from koastops.core.forms import IdModelMultipleChoiceField

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

    ``ad_accounts`` offers the brand's active ad accounts only, so an id from another brand
    (or an archived account) fails as "not one of the available choices" by the field.
    """

    role = forms.ChoiceField(choices=Role.choices)
    ad_accounts = IdModelMultipleChoiceField(
        queryset=AdAccount.objects.none(),
        required=False,
        help_text=NARROWING_HELP,
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )

    def __init__(self, *args: Any, ad_accounts: Sequence[AdAccount], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["ad_accounts"]
        field.queryset = AdAccount.objects.filter(pk__in=[account.pk for account in ad_accounts])
        # Render from the list the page already holds (no query per rendered select).
        field.choices = [(account.pk, account.name) for account in ad_accounts]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("ad_accounts") and cleaned.get("role") != Role.MEDIA_BUYER:
            self.add_error(
                "ad_accounts", "Only a media buyer can be narrowed to ad accounts; choose none."
            )
        return cleaned

    def add_service_error(self, error: ValidationError) -> None:
        """Attach a service's ``ValidationError``: by the field when the form shows it."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for field, errors in error.error_dict.items():
            target = field if field in self.fields and field != NON_FIELD_ERRORS else None
            self.add_error(target, errors)


class MemberInviteForm(_MemberFormMixin):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    full_name = forms.CharField(label="Full name", max_length=150, required=False)
    field_order = ["email", "full_name", "role", "ad_accounts"]


class MemberRoleForm(_MemberFormMixin):
    pass
