"""The consent snippet in a real browser: with a quote, ``</script>`` and a newline in the
values it is still valid JavaScript that does what the config says, in order — the
Consent Mode default with its region, Meta revoked before ``init`` and granted on the
chosen category. Every value is JSON-encoded, so the free text arrives exactly as typed.

No server and no database: the snippet is a pure function of the content, put into a
blank page with ``set_content``."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import pytest

from koastops.consent import content as cc

pytestmark = pytest.mark.browser

HOSTILE_NAME = 'Acme\'s "CMP" </script><script>window.pwned = 1</script> <!-- & end'
HOSTILE_STRINGS = [
    "it's",
    'say "hi"',
    "</script><script>window.pwned = 1</script>",
    "</SCRIPT >",
    "line one\nline two\r\nthree",
    "separators \u2028 and \u2029",
    "<!-- <script>",
    "back\\slash \\u0041 ${not a template}",
    "",
    "emoji 🍪 and NUL-free ünïcödé",
]

# Stubs defined before the snippet, as the page would load the real libraries after it.
STUBS = """<script>
  window.calls = [];
  window.pwned = 0;
  window.fbq = function () { window.calls.push(['fbq', ...arguments]); };
</script>"""


@pytest.fixture
def page(chromium_browser) -> Iterator[Any]:
    context = chromium_browser.new_context()
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on(
        "console",
        lambda message: page.errors.append(message.text) if message.type == "error" else None,
    )
    try:
        yield page
    finally:
        context.close()


def hostile_content() -> dict[str, Any]:
    return cc.parse_content(
        {
            "platform": "custom",
            "platform_name": HOSTILE_NAME + "\n  second   line",
            "defaults": {
                "ad_storage": "denied",
                "analytics_storage": "granted",
                "ad_user_data": "denied",
                "ad_personalization": None,
            },
            "mode": "basic",
            "wait_for_update": 500,
            "regions": ["de", "AT", "us-ca"],
            "pixels": [
                {"id": "222333444555", "category": "marketing"},
                {"id": "111222333444", "category": "marketing"},
            ],
            "events": [{"name": "Lead", "category": "marketing"}],
            "meta": {"revoke_before_init": True, "grant_on": "marketing"},
            "ldu": {"enabled": True, "country": 1, "state": 1000},
        }
    )


def test_the_snippet_stays_valid_javascript_with_hostile_text(page):
    content = hostile_content()
    # Whitespace (the newline, U+2028 too) is squashed in the name; the rest survives.
    expected_name = HOSTILE_NAME + " second line"
    assert content["platform_name"] == expected_name
    hash_ = cc.content_hash("DE", content)
    snippet = cc.snippet(content, market="de", version=7, hash_=hash_)
    for part in snippet.values():
        assert part.count("</script>") == 1 and part.endswith("</script>")
        assert "<script>window.pwned" not in part

    page.set_content(
        f"<!doctype html><html><head>{STUBS}{snippet['google']}{snippet['meta']}</head>"
        "<body><p id=after>after the snippet</p></body></html>"
    )

    assert page.errors == []
    assert page.evaluate("window.pwned") == 0
    # The page after the snippet was not swallowed by a broken script element.
    assert page.inner_text("#after") == "after the snippet"
    assert page.evaluate("document.scripts.length") == 3
    assert page.evaluate("window.koastopsConsent") == {
        "market": "DE",
        "version": 7,
        "hash": hash_,
        "platform": expected_name,
    }
    assert page.evaluate("window.koastopsConsent.platform === " + cc.js_value(expected_name))

    data_layer = page.evaluate("window.dataLayer.map((entry) => Array.from(entry))")
    assert data_layer == [
        [
            "consent",
            "default",
            {
                "ad_storage": "denied",
                "analytics_storage": "granted",
                "ad_user_data": "denied",
                "wait_for_update": 500,
                "region": ["DE", "AT", "US-CA"],
            },
        ]
    ]

    calls = page.evaluate("window.calls")
    assert calls == [
        ["fbq", "consent", "revoke"],
        ["fbq", "dataProcessingOptions", ["LDU"], 1, 1000],
        ["fbq", "init", "111222333444"],
        ["fbq", "init", "222333444555"],
    ]
    revoke = calls.index(["fbq", "consent", "revoke"])
    assert all(revoke < i for i, call in enumerate(calls) if call[1] == "init")

    # Consent for another category grants nothing; marketing grants Meta.
    page.evaluate("window.koastopsGrantMeta('analytics')")
    assert page.evaluate("window.calls.length") == 4
    page.evaluate("window.koastopsGrantMeta('marketing')")
    assert page.evaluate("window.calls.at(-1)") == ["fbq", "consent", "grant"]
    assert page.errors == []


def test_without_revoke_meta_is_initialised_without_consent_calls(page):
    content = cc.parse_content(
        {
            **hostile_content(),
            "meta": {"revoke_before_init": False, "grant_on": "marketing"},
            "ldu": {"enabled": False, "country": 0, "state": 0},
            "defaults": dict.fromkeys(cc.SIGNALS, "granted"),
            "wait_for_update": 0,
        }
    )
    snippet = cc.snippet(content, market="us", version=1, hash_="h")
    page.set_content(f"<html><head>{STUBS}{snippet['google']}{snippet['meta']}</head></html>")
    assert page.errors == []
    assert page.evaluate("window.calls") == [
        ["fbq", "init", "111222333444"],
        ["fbq", "init", "222333444555"],
    ]
    assert page.evaluate("typeof window.koastopsGrantMeta") == "undefined"
    [entry] = page.evaluate("window.dataLayer.map((entry) => Array.from(entry))")
    assert entry[2] == {**dict.fromkeys(cc.SIGNALS, "granted"), "region": ["DE", "AT", "US-CA"]}


def test_js_value_round_trips_hostile_strings_inside_a_script_element(page):
    values: list[Any] = [
        *HOSTILE_STRINGS,
        {"</script>": "'\"\n\u2028", "nested": ["</script>", {"a": "\u2029"}]},
        [1, 2.5, True, None, "x"],
    ]
    assignments = "\n".join(f"  window.values.push({cc.js_value(value)});" for value in values)
    for literal in assignments.splitlines():
        # Nothing that could end the element or the line reaches the HTML parser raw.
        assert "</" not in literal and "\u2028" not in literal and "\u2029" not in literal
    page.set_content(
        "<html><head><script>window.values = []; window.pwned = 0;</script>"
        f"<script>\n{assignments}\n</script></head><body><p id=after>ok</p></body></html>"
    )
    assert page.errors == []
    assert page.evaluate("window.pwned") == 0
    assert page.inner_text("#after") == "ok"
    assert page.evaluate("window.values") == values
    # And exactly, character for character (evaluate's JSON bridge aside).
    for index, value in enumerate(HOSTILE_STRINGS):
        assert page.evaluate(f"window.values[{index}] === {cc.js_value(value)}")


def test_the_snippet_shown_in_html_is_inert_when_escaped():
    """The page shows the snippet as text in a code block: escaped, it holds no tag."""
    snippet = cc.snippet(hostile_content(), market="de", version=1, hash_="h")
    shown = html.escape(snippet["google"])
    assert "<" not in shown and ">" not in shown
