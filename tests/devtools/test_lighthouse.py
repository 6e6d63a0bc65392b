"""The Lighthouse section of docs/benchmarks.md: written by `manage.py lighthouse`, kept by
`manage.py bench`; scores read from Lighthouse's JSON reports."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from koastops.devtools.benchmarks_doc import lighthouse_section, with_lighthouse_section
from koastops.devtools.management.commands import lighthouse
from tests.devtools.test_bench import small_bench as bench_args  # noqa: F401 -- fixture

SECTION = "## Lighthouse\n\n| page | performance |\n|---|---:|\n| members | 99 |\n"


def test_the_section_is_replaced_in_place_and_added_when_missing():
    bench_only = "# Benchmarks\n\n| page |\n\n## Machine\n\n- CPU: test\n"

    added = with_lighthouse_section(bench_only, SECTION)
    replaced = with_lighthouse_section(added, SECTION.replace("99", "97"))

    assert added == bench_only + "\n" + SECTION
    assert lighthouse_section(added) == SECTION
    assert replaced.startswith(bench_only)
    assert lighthouse_section(replaced) == SECTION.replace("99", "97")
    assert lighthouse_section(bench_only) == ""
    assert with_lighthouse_section(bench_only, "") == bench_only


def test_bench_keeps_the_lighthouse_section(request, tmp_path):
    args = request.getfixturevalue("bench_args")
    output = tmp_path / "benchmarks.md"
    output.write_text("# Benchmarks\n\nold numbers\n\n" + SECTION)

    call_command(*args, f"--output={output}")

    markdown = output.read_text()
    assert "old numbers" not in markdown
    assert "| floor (bare view, same middleware)" in markdown
    assert markdown.endswith("\n\n" + SECTION)


def _report(scores: dict[str, float], *, final: str = "http://127.0.0.1:8123/brands/") -> dict:
    audits = {"color-contrast": {"score": 0, "scoreDisplayMode": "binary"}}
    audits |= {"first-contentful-paint": {"score": 0.95, "scoreDisplayMode": "numeric"}}
    return {
        "lighthouseVersion": "12.2.3",
        "requestedUrl": "http://127.0.0.1:8123/",
        "finalDisplayedUrl": final,
        "environment": {"hostUserAgent": "Mozilla/5.0 (X11) HeadlessChrome/156.0.0.0 Safari"},
        "audits": audits,
        "categories": {
            "performance": {
                "score": scores["performance"],
                "auditRefs": [{"id": "first-contentful-paint", "weight": 10}],
            },
            "accessibility": {
                "score": scores["accessibility"],
                "auditRefs": [{"id": "color-contrast", "weight": 7}],
            },
            "best-practices": {"score": scores["best-practices"], "auditRefs": []},
        },
    }


def test_scores_and_failed_audits_are_read_from_the_report(tmp_path):
    path = tmp_path / "start.json"
    path.write_text(
        json.dumps(_report({"performance": 0.994, "accessibility": 0.91, "best-practices": 1}))
    )

    score = lighthouse.read_report(path, page="start page", preset="mobile")
    section = lighthouse.render_section([score], generated="today")

    assert score.scores == {"performance": 99, "accessibility": 91, "best-practices": 100}
    assert score.failed["accessibility"] == ["color-contrast"]
    assert score.failed["performance"] == []  # 0.95 is not below 0.9
    assert score.final_path == "/brands/"
    assert score.chrome == "156.0.0.0"
    assert section.startswith("## Lighthouse\n")
    assert "| start page | `http://127.0.0.1:8123/ → /brands/` | mobile | 99 | **91** | 100 |" in (
        section
    )
    assert "`color-contrast`" in section


def test_a_report_without_a_score_is_refused(tmp_path):
    from django.core.management import CommandError

    path = tmp_path / "broken.json"
    path.write_text(
        json.dumps(_report({"performance": None, "accessibility": 1, "best-practices": 1}))
    )

    with pytest.raises(CommandError, match="no performance score"):
        lighthouse.read_report(path, page="start page", preset="desktop")
