"""landing.reachable against a local HTTPS server (allow-listed only in the tests that use
it): pages with and without the pixel id, 404, redirects (followed, to a private address,
to http://), a slow and a huge body, http:// refused, unsafe hosts, the demo pages on and
off, each URL fetched once and several at once."""

from __future__ import annotations

import time

import pytest

from koastops.core import safefetch
from koastops.launches.checks import landing
from koastops.launches.models import Ad, Launch
from tests.factories import LaunchFactory
from tests.launches.checks_support import grow, run
from tests.launches.landing_server import serve

pytestmark = pytest.mark.django_db


@pytest.fixture
def landing_server(tmp_path, monkeypatch, settings):
    yield from serve(tmp_path, monkeypatch, settings)


def _launch(*urls: str) -> Launch:
    """A launch with one ad per URL given."""
    launch = LaunchFactory()
    grow(launch, len(urls))
    for ad, url in zip(Ad.objects.filter(launch=launch).order_by("pk"), urls, strict=True):
        Ad.objects.filter(pk=ad.pk).update(landing_url=url)
    return launch


def _pixel_launch(base: str, *paths: str) -> Launch:
    launch = LaunchFactory()
    pixel_id = launch.pixel.external_id
    urls = [f"{base}{path.format(pixel=pixel_id)}" for path in paths]
    grow(launch, len(urls))
    for ad, url in zip(Ad.objects.filter(launch=launch).order_by("pk"), urls, strict=True):
        Ad.objects.filter(pk=ad.pk).update(landing_url=url)
    return launch


def _rows(outcome) -> dict[str, dict]:
    return {row["url"]: row for row in outcome.details["urls"]}


def test_page_with_the_pixel_passes(landing_server) -> None:
    base = landing_server.base
    launch = _pixel_launch(base, "/pixel/{pixel}", "/hop/{pixel}")
    outcome = run("landing.reachable", launch)
    assert outcome.status == "pass", outcome.message
    pixel_id = launch.pixel.external_id
    assert outcome.message == f"All 2 landing pages answer over https with the pixel {pixel_id}."
    hop = _rows(outcome)[f"{base}/hop/{pixel_id}"]
    assert hop["http_status"] == 200 and hop["final_url"] == f"{base}/pixel/{pixel_id}"
    assert hop["ads"] == [{"path": "ad_sets.0.ads.1.landing_url", "name": "Ad 2"}]


def test_missing_pixel_and_404_fail_per_url(landing_server) -> None:
    base = landing_server.base
    launch = _pixel_launch(base, "/pixel/{pixel}", "/plain", "/gone")
    pixel_id = launch.pixel.external_id
    outcome = run("landing.reachable", launch)
    assert outcome.status == "fail"
    assert outcome.message.startswith(
        f"2 of 3 landing pages fail, first {base}/plain: The page does not contain the pixel "
        f"id {pixel_id}: install the pixel on the page."
    )
    rows = _rows(outcome)
    assert rows[f"{base}/pixel/{pixel_id}"]["status"] == "pass"
    assert rows[f"{base}/gone"]["status"] == "fail"
    assert rows[f"{base}/gone"]["message"] == "The page answered HTTP 404: fix the URL or the page."


def test_redirect_to_a_private_address_is_refused(landing_server) -> None:
    launch = _pixel_launch(landing_server.base, "/to-private")
    outcome = run("landing.reachable", launch)
    assert outcome.status == "fail"
    row = outcome.details["urls"][0]
    assert row["message"] == "Refused: 127.0.0.2 is a loopback address: it may not be fetched."
    assert not any(path.startswith("/pixel") for path in landing_server.seen)


def test_redirect_to_http_is_refused(landing_server) -> None:
    launch = _pixel_launch(landing_server.base, "/to-http/{pixel}")
    outcome = run("landing.reachable", launch)
    assert outcome.status == "fail"
    assert outcome.details["urls"][0]["message"] == "Refused: The URL must start with https://."


def test_http_url_fails_without_a_request(landing_server) -> None:
    url = landing_server.base.replace("https://", "http://") + "/pixel/1"
    outcome = run("landing.reachable", _launch(url))
    assert outcome.status == "fail"
    assert outcome.message == f"The landing page {url} fails: Uses http://: use an https:// URL."
    assert landing_server.seen == []


def test_slow_body_is_bounded_by_the_timeout(landing_server, monkeypatch) -> None:
    monkeypatch.setattr(landing, "FETCH_TIMEOUT", 1.0)
    launch = _pixel_launch(landing_server.base, "/slow")
    started = time.monotonic()
    outcome = run("landing.reachable", launch)
    assert time.monotonic() - started < 3
    assert outcome.status == "fail"
    assert outcome.details["urls"][0]["message"] == "Unreachable: Timed out."


def test_huge_body_is_read_up_to_the_cap(landing_server) -> None:
    launch = _pixel_launch(landing_server.base, "/huge/{pixel}")
    started = time.monotonic()
    outcome = run("landing.reachable", launch)
    assert time.monotonic() - started < 4
    assert outcome.status == "fail"
    pixel_id = launch.pixel.external_id
    assert outcome.details["urls"][0]["message"] == (
        f"The page does not contain the pixel id {pixel_id} in its first 2 MB: install the "
        "pixel on the page."
    )


def test_each_url_is_fetched_once_and_several_at_once(landing_server) -> None:
    launch = LaunchFactory()
    pixel_id = launch.pixel.external_id
    base = landing_server.base
    grow(launch, 48)
    urls = [f"{base}/delay/0.5/{pixel_id}?v={i}" for i in range(8)]
    for index, ad in enumerate(Ad.objects.filter(launch=launch).order_by("pk")):
        Ad.objects.filter(pk=ad.pk).update(landing_url=urls[index % 8])
    started = time.monotonic()
    outcome = run("landing.reachable", launch)
    elapsed = time.monotonic() - started
    assert outcome.status == "pass", outcome.message
    assert sorted(landing_server.seen) == sorted(url.removeprefix(base) for url in urls)
    assert elapsed < 2.5  # 8 fetches of 0.5 s each in sequence would take 4 s
    assert {row["ad_count"] for row in outcome.details["urls"]} == {6}


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("https://127.0.0.1/landing", "Refused: 127.0.0.1 is a loopback address"),
        ("https://10.0.0.7/landing", "Refused: 10.0.0.7 is a private address"),
        ("https://0x7f.1/landing", "Refused: 0x7f.1 (127.0.0.1) is a loopback address"),
        ("https://shop.example.com:8443/landing", "Refused: Only the standard ports"),
        ("https://user:pw@shop.example.com/", "Refused: The URL may not contain a user name"),
        ("https://[::1/landing", "Not a valid URL: correct it."),
        ("ftp://shop.example.com/landing", "Refused: Only http and https URLs"),
    ],
)
def test_unsafe_urls_fail_naming_why(url: str, words: str) -> None:
    outcome = run("landing.reachable", _launch(url))
    assert outcome.status == "fail"
    assert outcome.details["urls"][0]["message"].startswith(words)


def test_a_name_resolving_to_a_private_address_is_refused(monkeypatch) -> None:
    import socket

    def getaddrinfo(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.168.1.20", port))]

    monkeypatch.setattr(safefetch.socket, "getaddrinfo", getaddrinfo)
    outcome = run("landing.reachable", _launch("https://intranet.shop.test/landing"))
    assert outcome.status == "fail"
    assert outcome.details["urls"][0]["message"] == (
        "Refused: intranet.shop.test (192.168.1.20) is a private address: it may not be fetched."
    )


def test_demo_pages_answer_example_hosts_when_enabled(settings) -> None:
    settings.LAUNCH_DEMO_LANDING_PAGES = True
    launch = _launch("https://shop.example/spring", "https://shop.example/broken/summer")
    outcome = run("landing.reachable", launch)
    assert outcome.status == "fail"
    rows = _rows(outcome)
    ok = rows["https://shop.example/spring"]
    assert ok["status"] == "pass" and ok["demo"] is True
    assert ok["message"] == "The demo page answered 200 with the pixel."
    broken = rows["https://shop.example/broken/summer"]
    assert broken["message"] == "The demo page answered HTTP 404: fix the URL or the page."
    Ad.objects.filter(launch=launch).update(landing_url="https://shop.example/spring")
    outcome = run("landing.reachable", launch)
    assert outcome.status == "pass"
    assert outcome.message.endswith("(demo pages).")


def test_example_hosts_are_unresolvable_when_demo_pages_are_off(settings) -> None:
    settings.LAUNCH_DEMO_LANDING_PAGES = False
    outcome = run("landing.reachable", _launch("https://shop.example/spring"))
    assert outcome.status == "fail"
    row = outcome.details["urls"][0]
    assert row["demo"] is False
    assert row["message"] == "Unreachable: shop.example could not be resolved."


def test_an_unexpected_exception_in_the_fetch_is_an_error(monkeypatch, settings) -> None:
    settings.LAUNCH_DEMO_LANDING_PAGES = True

    def boom(*args, **kwargs):
        raise RuntimeError("unexpected")

    monkeypatch.setattr(safefetch, "fetch", boom)
    launch = _launch("https://shop.test/a", "https://shop.example/spring")
    outcome = run("landing.reachable", launch)
    assert outcome.status == "error"
    assert outcome.message == (
        "1 landing page could not be checked (first https://shop.test/a): re-run the checks; "
        "if it happens again, tell an admin."
    )
    rows = _rows(outcome)
    assert rows["https://shop.test/a"]["status"] == "error"
    assert rows["https://shop.example/spring"]["status"] == "pass"


def test_a_failing_url_outweighs_an_unchecked_one(monkeypatch) -> None:
    def boom(*args, **kwargs):
        raise RuntimeError("unexpected")

    monkeypatch.setattr(safefetch, "fetch", boom)
    outcome = run("landing.reachable", _launch("https://shop.test/a", "http://shop.test/b"))
    assert outcome.status == "fail"
    assert "http://shop.test/b" in outcome.message
