"""The UI kit's template tags and tokens: icons inline and accessible, typos fail, status
badges carry colour + icon + text, and the tone colours keep WCAG AA contrast."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template, TemplateSyntaxError

from koastops.core.templatetags import ui

CSS = (Path(settings.BASE_DIR) / "static" / "css" / "app.css").read_text(encoding="utf-8")


def render(source: str, **context: object) -> str:
    return Template("{% load ui %}" + source).render(Context(context))


def test_an_icon_is_inline_svg_hidden_from_assistive_technology():
    html = render('{% icon "check" %}')
    assert html.startswith('<svg class="icon"')
    assert 'aria-hidden="true" focusable="false"' in html
    assert "<path" in html and "license" not in html and "lucide" not in html


def test_a_labelled_icon_is_an_image_with_an_escaped_name():
    html = render('{% icon "x" label=name %}', name='Close "<b>"')
    assert 'role="img" aria-label="Close &quot;&lt;b&gt;&quot;"' in html
    assert "aria-hidden" not in html


def test_an_unknown_icon_fails_when_strict_and_renders_nothing_in_production(settings):
    settings.UI_ICON_STRICT = True
    with pytest.raises(TemplateSyntaxError, match="Unknown icon 'chek'"):
        render('{% icon "chek" %}')
    settings.UI_ICON_STRICT = False
    assert render('{% icon "chek" %}') == ""
    assert render('{% icon "../../settings" %}') == ""


def test_every_icon_a_template_names_is_vendored():
    names = set()
    for path in (Path(settings.BASE_DIR) / "templates").rglob("*.html"):
        names.update(re.findall(r'{%\s*icon\s+"([^"]+)"', path.read_text(encoding="utf-8")))
    missing = sorted(name for name in names if not (ui.icon_dir() / f"{name}.svg").exists())
    assert names and not missing


class _Obj:
    def __init__(self, status: str, display: str) -> None:
        self.status, self._display = status, display

    def get_status_display(self) -> str:
        return self._display


@pytest.mark.parametrize(
    ("status", "icon"),
    [
        ("active", "circle-check"),
        ("archived", "archive"),
        ("pending", "triangle-alert"),
        ("error", "circle-x"),
        ("mystery", "circle-help"),
    ],
)
def test_a_status_badge_has_its_status_class_an_icon_and_the_text(status, icon):
    html = render("{% status_badge obj %}", obj=_Obj(status, "<Shown>"))
    assert html.startswith(f'<span class="badge badge-{status}"><svg class="icon"')
    assert render(f'{{% icon "{icon}" %}}') in html
    assert html.endswith("&lt;Shown&gt;</span>")


def test_a_tone_badge_and_the_include_render_alike():
    tag = render('{% status_badge tone="warning" label="No token" %}')
    include = render(
        '{% include "components/status_badge.html" with tone="warning" label="No token" %}'
    )
    assert tag.strip() == include.strip()
    assert 'class="badge badge-warning"' in tag and "No token" in tag
    assert 'class="badge badge-unknown"' in render('{% status_badge tone="purple" label="?" %}')


def _hex(name: str) -> str:
    match = re.search(rf"--{name}:\s*(#[0-9a-fA-F]{{6}})", CSS)
    assert match, name
    return match.group(1)


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@pytest.mark.parametrize(
    ("text", "background"),
    [
        ("c-text", "c-bg"),
        ("c-text-muted", "c-bg"),
        ("c-text-muted", "c-bg-subtle"),
        ("c-text-muted", "c-bg-muted"),
        ("c-accent", "c-bg"),
        ("c-accent-hover", "c-accent-subtle"),
        ("c-text-inverse", "c-accent"),
        ("c-text-inverse", "c-danger"),
        ("c-ok", "c-ok-bg"),
        ("c-warning", "c-warning-bg"),
        ("c-failing", "c-failing-bg"),
        ("c-unknown", "c-unknown-bg"),
        ("c-archived", "c-archived-bg"),
        ("c-info", "c-info-bg"),
    ],
)
def test_text_tokens_keep_wcag_aa_contrast(text, background):
    assert _contrast(_hex(text), _hex(background)) >= 4.5
