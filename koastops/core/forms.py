"""Form fields shared by the apps."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from koastops.core.ids import parse_id


class IdModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """A multiple choice of rows by bigint id that refuses a value which is no id (past
    2^63 - 1, "²", negative) as a choice that is not available, before it reaches the
    database: Django's own field queries ``pk__in`` with it, a 500 on SQLite."""

    def _check_values(self, value: Any) -> Any:
        for pk in value:
            if parse_id(str(pk)) is None:
                raise ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": str(pk)[:30]},
                )
        return super()._check_values(value)  # type: ignore[misc]  # not in django-stubs


def form_field[F: forms.Field](form: forms.BaseForm, name: str, kind: type[F]) -> F:
    """``form.fields[name]`` as the field class it is (``fields`` is typed ``dict[str,
    Field]``), so setting a ``queryset`` or ``choices`` on it is checked."""
    field = form.fields[name]
    if not isinstance(field, kind):
        raise TypeError(
            f"{type(form).__name__}.{name} is a {type(field).__name__}, not a {kind.__name__}"
        )
    return field


def parse_version(raw: str | None) -> int | None:
    """A posted ``version`` (the hidden field of an edit form): a whole number of at most
    nine ASCII digits, or None for anything else (missing, tampered with)."""
    value = (raw or "").strip()
    if not value.isascii() or not value.isdigit() or len(value) > 9:
        return None
    return int(value)


def add_service_error(form: forms.BaseForm, error: ValidationError) -> None:
    """Attach a ``ValidationError`` raised by a service to the form: a dict-shaped error goes
    to its fields, anything naming a field the form does not show goes to the top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        known = field in form.fields and field != NON_FIELD_ERRORS
        form.add_error(field if known else None, errors)
