"""Forms of the naming-rule pages: the rule editor (a rule document spread over fields, one
row of fields per token of the template), the tester, the builder and the bulk check.

The editor's form only shapes input: whether the document is a valid rule is the engine's
decision (``services.naming_rule_save`` → ``parse_spec``), and each of its located
errors (``spec.tokens.objective.values[2].value``) is shown next to the field it names.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.files.uploadedfile import UploadedFile

from koastops.taxonomy import rules
from koastops.taxonomy.catalogue import NAMING_LEVELS
from koastops.taxonomy.naming import CompiledRule
from koastops.taxonomy.naming.spec import CHARSETS, parse_date_format

CASE_CHOICES = [
    ("lower", "lower case only"),
    ("upper", "UPPER CASE only"),
    ("any", "any case"),
]
KIND_CHOICES = [
    ("vocabulary", "List of values"),
    ("date", "Date"),
    ("free", "Free text"),
    ("number", "Number"),
]
KIND_LABELS = dict(KIND_CHOICES)
CHARSET_CHOICES = [(key, label) for key, (_, label) in CHARSETS.items()]
TOKEN_PARTS = {
    "vocabulary": ("values",),
    "date": ("format",),
    "free": ("min_length", "max_length", "charset"),
    "number": ("min_digits", "max_digits", "min", "max"),
}
# What each kind cannot do without (the others have defaults, or are optional bounds).
REQUIRED_PARTS = {
    "vocabulary": ("values",),
    "date": ("format",),
    "free": ("max_length", "charset"),
    "number": ("max_digits",),
}
_TOKEN = re.compile(r"\{([a-z][a-z0-9_]{0,31})\}")
_SPEC_TOKEN_PATH = re.compile(r"^spec\.tokens\.([a-z][a-z0-9_]{0,31})(?:\.(.+))?$")
_VALUES_PATH = re.compile(r"^values\[(\d+)\](?:\.(value|label|aliases)(?:\[(\d+)\])?)?$")

MAX_BULK_NAMES = 10_000
MAX_BULK_BYTES = 2 * 1024 * 1024
MAX_NAME_LENGTH = 1000


def template_tokens(template: str) -> list[str]:
    """The token names of a template, in order, each once (even if the template is not
    valid yet: the editor shows rows for what it can read)."""
    seen: list[str] = []
    for name in _TOKEN.findall(template or ""):
        if name not in seen:
            seen.append(name)
    return seen[:32]


def _field(name: str, part: str) -> str:
    return f"tok-{name}-{part}"


def guess_token(name: str) -> dict[str, Any]:
    """A first guess for a token that just appeared in the template."""
    upper = name.upper()
    if set(upper) <= set("YMD") and parse_date_format(upper)[1] is None:
        return {"kind": "date", "format": upper}
    if name in ("free", "text", "note", "label", "custom", "description", "name"):
        return {"kind": "free", "min_length": 1, "max_length": 30, "charset": "alnum_dash"}
    if name in ("seq", "number", "num", "n", "index", "version"):
        return {"kind": "number", "min_digits": 1, "max_digits": 3}
    return {"kind": "vocabulary", "values": []}


def spec_initial(spec: Any) -> dict[str, Any]:
    """A stored rule document as the editor's initial values (robust to broken rows)."""
    spec = spec if isinstance(spec, Mapping) else {}
    initial: dict[str, Any] = {
        "template": str(spec.get("template", "")),
        "case": spec.get("case", "lower"),
        "max_length": spec.get("max_length", 120),
    }
    tokens = spec.get("tokens")
    tokens = tokens if isinstance(tokens, Mapping) else {}
    for name in template_tokens(initial["template"]):
        token = tokens.get(name)
        initial |= token_initial(name, token if isinstance(token, Mapping) else guess_token(name))
    return initial


def token_initial(name: str, token: Mapping[str, Any]) -> dict[str, Any]:
    kind = token.get("kind", "vocabulary")
    initial: dict[str, Any] = {_field(name, "kind"): kind}
    if kind == "vocabulary":
        initial[_field(name, "values")] = rules.vocabulary_lines(token.get("values"))
    for part in ("format", "min_length", "max_length", "charset", "min_digits", "max_digits"):
        if part in token:
            initial[_field(name, part)] = token[part]
    for part in ("min", "max"):
        if token.get(part) is not None:
            initial[_field(name, part)] = token[part]
    return initial


class RuleForm(forms.Form):
    """One naming rule. ``tokens`` are the names the template holds (from the posted
    template, or the stored one): one row of fields per token."""

    version = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=0)
    template = forms.CharField(
        max_length=1000,
        help_text="Tokens in braces, separated by fixed text, e.g. {market}_{objective}_{yyyymm}.",
        widget=forms.TextInput(attrs={"class": "mono", "spellcheck": "false"}),
    )
    case = forms.ChoiceField(choices=CASE_CHOICES, label="Case")
    max_length = forms.IntegerField(
        min_value=1, max_value=1000, label="Maximum length", help_text="Characters, 1 to 1000."
    )
    try_name = forms.CharField(
        required=False,
        max_length=MAX_NAME_LENGTH,
        label="Try a name",
        help_text="Checked against the rule as it stands in this form, before you save it.",
        widget=forms.TextInput(
            attrs={"class": "mono", "spellcheck": "false", "autocomplete": "off"}
        ),
    )

    def __init__(self, *args: Any, tokens: Iterable[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tokens = list(tokens)
        self._lines: dict[str, list[int]] = {}
        for name in self.tokens:
            kind_field = forms.ChoiceField(choices=KIND_CHOICES, label=f"Kind of {{{name}}}")
            kind_field.widget.attrs["data-token-kind"] = name
            self.fields[_field(name, "kind")] = kind_field
            self.fields[_field(name, "values")] = forms.CharField(
                required=False,
                max_length=200_000,
                label=f"Values of {{{name}}}",
                help_text="One per line: value | label | alias, alias (label and aliases optional).",
                widget=forms.Textarea(attrs={"rows": 5, "class": "mono", "spellcheck": "false"}),
            )
            formats = list(rules.DATE_FORMATS)
            current = self._current(name, "format")
            if current and current not in formats and len(current) <= 20:
                formats.append(current)
            self.fields[_field(name, "format")] = forms.ChoiceField(
                required=False, choices=[(f, f) for f in formats], label="Date format"
            )
            for part, label, low, high in (
                ("min_length", "Minimum length", 1, 200),
                ("max_length", "Maximum length", 1, 200),
                ("min_digits", "Minimum digits", 1, 18),
                ("max_digits", "Maximum digits", 1, 18),
            ):
                self.fields[_field(name, part)] = forms.IntegerField(
                    required=False, min_value=low, max_value=high, label=label
                )
            self.fields[_field(name, "charset")] = forms.ChoiceField(
                required=False, choices=CHARSET_CHOICES, label="Characters"
            )
            for part, label in (("min", "Smallest value"), ("max", "Largest value")):
                self.fields[_field(name, part)] = forms.IntegerField(
                    required=False, min_value=0, max_value=10**18 - 1, label=label
                )
            for part in REQUIRED_PARTS[self.kind_of(name)]:
                self.fields[_field(name, part)].required = True

    def _current(self, name: str, part: str) -> Any:
        key = _field(name, part)
        if self.is_bound:
            return self.data.get(self.add_prefix(key))
        return self.initial.get(key)

    def kind_of(self, name: str) -> str:
        kind = self._current(name, "kind")
        return kind if kind in TOKEN_PARTS else "vocabulary"

    def token_groups(self) -> list[dict[str, Any]]:
        """For the template: each token's kind field and the fields of its kind."""
        return [
            {
                "name": name,
                "kind": self.kind_of(name),
                "kind_field": self[_field(name, "kind")],
                "fields": [self[_field(name, part)] for part in TOKEN_PARTS[self.kind_of(name)]],
            }
            for name in self.tokens
        ]

    def spec(self) -> dict[str, Any]:
        """The rule document from the cleaned data (call after ``is_valid``). Values the
        form could not read are left out, so the engine names them as missing."""
        data = self.cleaned_data
        tokens: dict[str, Any] = {}
        for name in self.tokens:
            kind = data.get(_field(name, "kind")) or "vocabulary"
            token: dict[str, Any] = {"kind": kind}
            if kind == "vocabulary":
                values, numbers, problems = rules.parse_vocabulary_lines(
                    data.get(_field(name, "values")) or ""
                )
                for problem in problems:
                    self.add_error(_field(name, "values"), problem)
                self._lines[name] = numbers
                token["values"] = values
            else:
                for part in TOKEN_PARTS[kind]:
                    value = data.get(_field(name, part))
                    if value not in (None, ""):
                        token[part] = value
            tokens[name] = token
        return {
            "template": data.get("template", ""),
            "case": data.get("case", "lower"),
            "max_length": data.get("max_length"),
            "tokens": tokens,
        }

    def add_spec_errors(self, error: ValidationError, *, only_new: bool = False) -> None:
        """The service's errors (keyed by ``spec.*`` paths) next to their fields;
        ``only_new``: not on a field that shows an error already."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for path, errors in error.message_dict.items():
            field, prefix = self._field_for(path)
            if only_new and field is not None and field in self.errors:
                continue
            for message in errors:
                self.add_error(field, f"{prefix}{message}" if prefix else message)

    def _field_for(self, path: str) -> tuple[str | None, str]:
        if path in ("spec.template", "template"):
            return "template", ""
        if path in ("spec.case", "case"):
            return "case", ""
        if path in ("spec.max_length", "max_length"):
            return "max_length", ""
        match = _SPEC_TOKEN_PATH.match(path)
        if match and match.group(1) in self.tokens:
            name, rest = match.group(1), match.group(2)
            if rest is None:
                return _field(name, "kind"), ""
            values = _VALUES_PATH.match(rest)
            if values:
                index = int(values.group(1))
                lines = self._lines.get(name, [])
                line = lines[index] if index < len(lines) else index + 1
                where = f"Line {line}"
                if values.group(2) == "aliases" and values.group(3) is not None:
                    where += f", alias {int(values.group(3)) + 1}"
                elif values.group(2) == "label":
                    where += ", label"
                return _field(name, "values"), f"{where}: "
            part = rest.split(".", 1)[0]
            if part.startswith("values"):
                return _field(name, "values"), ""
            if _field(name, part) in self.fields:
                return _field(name, part), ""
            return _field(name, "kind"), ""
        if path in ("spec", "spec.(spec)", "(spec)", NON_FIELD_ERRORS):
            return None, ""
        return None, f"{path.removeprefix('spec.')}: "


def rule_form(
    data: Mapping[str, Any] | None, *, initial: Mapping[str, Any], refresh: bool = False
) -> RuleForm:
    """The editor's form: bound to a POST (its template decides the token rows), or
    unbound with ``initial``. ``refresh``: unbound again, with what was posted as the
    initial values plus a first guess for each token new in the template — re-reading the
    template must not show errors for fields nobody filled in yet."""
    if data is None:
        return RuleForm(initial=initial, tokens=template_tokens(str(initial.get("template", ""))))
    tokens = template_tokens(str(data.get("template", "")))
    if not refresh:
        return RuleForm(data, tokens=tokens)
    posted: dict[str, Any] = {key: data.get(key) for key in data}
    fresh: dict[str, Any] = {}
    for name in tokens:
        if _field(name, "kind") not in posted:
            fresh |= token_initial(name, guess_token(name))
    return RuleForm(initial={**fresh, **posted}, tokens=tokens)


# --- tester, builder, bulk check ------------------------------------------------------------


def level_choices(levels: Iterable[str]) -> list[tuple[str, str]]:
    return [(level, NAMING_LEVELS[level]) for level in levels]


class TesterForm(forms.Form):
    level = forms.ChoiceField(choices=(), label="Level")
    name = forms.CharField(
        required=False,
        max_length=MAX_NAME_LENGTH,
        label="Name",
        widget=forms.TextInput(
            attrs={"class": "mono", "spellcheck": "false", "autocomplete": "off"}
        ),
    )

    def __init__(self, *args: Any, levels: Iterable[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["level"].choices = level_choices(levels)  # type: ignore[attr-defined]


class BuilderForm(forms.Form):
    """The level, and one field per token of its rule (select for a vocabulary)."""

    level = forms.ChoiceField(choices=(), label="Level")

    def __init__(
        self, *args: Any, levels: Iterable[str], rule: CompiledRule | None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["level"].choices = level_choices(levels)  # type: ignore[attr-defined]
        self.token_names: list[str] = []
        for info in rule.describe() if rule is not None else []:
            key = f"tok-{info.token}"
            self.token_names.append(info.token)
            if info.choices:
                self.fields[key] = forms.ChoiceField(
                    required=False,
                    label=info.token,
                    choices=[("", "Choose…")]
                    + [
                        (c.value, f"{c.value} — {c.label}" if c.label else c.value)
                        for c in info.choices
                    ],
                )
            else:
                self.fields[key] = forms.CharField(
                    required=False,
                    max_length=MAX_NAME_LENGTH,
                    label=info.token,
                    help_text=f"Expected: {info.expected}.",
                    widget=forms.TextInput(attrs={"class": "mono", "spellcheck": "false"}),
                )

    def values(self) -> dict[str, str]:
        return {
            name: self.cleaned_data.get(f"tok-{name}") or ""
            for name in self.token_names
            if self.cleaned_data.get(f"tok-{name}")
        }


class BulkForm(forms.Form):
    level = forms.ChoiceField(choices=(), label="Level")
    names = forms.CharField(
        required=False,
        label="Names",
        help_text=f"One name per line, up to {MAX_BULK_NAMES:,}.",
        widget=forms.Textarea(attrs={"rows": 8, "class": "mono", "spellcheck": "false"}),
    )
    file = forms.FileField(
        required=False,
        label="Or upload a file",
        help_text="A .txt (one name per line) or .csv (names in the first column), up to 2 MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".txt,.csv,text/plain,text/csv"}),
    )
    only_invalid = forms.BooleanField(required=False, label="Show only the names that fail")

    def __init__(self, *args: Any, levels: Iterable[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["level"].choices = level_choices(levels)  # type: ignore[attr-defined]
        self.rows: list[tuple[int, str]] = []  # (line number, name)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        text = data.get("names") or ""
        upload = data.get("file")
        if upload and text.strip():
            raise ValidationError("Paste names or upload a file, not both.")
        if upload:
            self.rows = read_upload(upload)
        elif text.strip():
            self.rows = _numbered(text.splitlines())
        elif not self.errors:
            raise ValidationError("Paste some names or upload a file.")
        if len(self.rows) > MAX_BULK_NAMES:
            self.rows = []
            raise ValidationError(
                f"More than {MAX_BULK_NAMES:,} names: one check takes at most "
                f"{MAX_BULK_NAMES:,}, so nothing was checked. Split the list."
            )
        return data


def _numbered(lines: Iterable[str]) -> list[tuple[int, str]]:
    rows = []
    for number, line in enumerate(lines, start=1):
        name = line.strip()
        if name:
            rows.append((number, name))
            if len(rows) > MAX_BULK_NAMES:
                break
    return rows


def read_upload(upload: UploadedFile) -> list[tuple[int, str]]:
    """The names of an uploaded .txt or .csv file, or a ValidationError on the field."""
    filename = (upload.name or "").lower()
    if not filename.endswith((".txt", ".csv")):
        raise ValidationError({"file": "Upload a .txt or .csv file."})
    if (upload.size or 0) > MAX_BULK_BYTES:
        raise ValidationError({"file": "The file is larger than 2 MB; nothing was checked."})
    raw = upload.read(MAX_BULK_BYTES + 1)
    if len(raw) > MAX_BULK_BYTES:
        raise ValidationError({"file": "The file is larger than 2 MB; nothing was checked."})
    if b"\x00" in raw:
        raise ValidationError({"file": "The file is not text (it holds binary data)."})
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            {"file": f"The file is not UTF-8 text (byte {exc.start + 1} cannot be read)."}
        ) from exc
    if not filename.endswith(".csv"):
        return _numbered(text.splitlines())
    rows: list[tuple[int, str]] = []
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        for row in reader:
            name = row[0].strip() if row else ""
            if not name or (not rows and name.lower() == "name"):
                continue  # blank rows, and a header
            rows.append((reader.line_num, name))
            if len(rows) > MAX_BULK_NAMES:
                break
    except csv.Error as exc:
        raise ValidationError({"file": f"The CSV file cannot be read: {exc}."}) from exc
    return rows
