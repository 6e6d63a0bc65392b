"""Fuzz every list filter of the pages and every API query parameter, path parameter and
body field, as an ops lead of the brand and as an admin: whatever comes in, nothing
answers 5xx (on the API, every answer is JSON). The API's operations are read from its
OpenAPI document, so routes added later are fuzzed too.

Each example runs in a transaction that is rolled back, so a fuzzed write (a revoked
role, say) does not change what the next example sees."""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from koastops.activity.verbs import VERBS
from koastops.core.ids import MAX_ID

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=25,  # per page or operation and principal: 40 cost a minute of the suite
    deadline=None,
    derandomize=True,  # the same examples in every run: CI never flakes on a new one
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "9999-12-31",
    "0001-01-01",
    "10000-01-01",
    "2026-02-30",
    "0",
    "-1",
    "²",
    "١٢٣",
    "\U0001d7d9\U0001d7da",  # mathematical double-struck 1 and 2
    "1" * 25,
    str(MAX_ID),
    str(MAX_ID + 1),
    str(-MAX_ID - 2),
    "1e309",
    "NaN",
    "null",
    "[]",
    "' OR 1=1 --",
    "%00",
    "<script>alert(1)</script>",
    "\u202e",
    "x" * 5000,
    "😀" * 200,
    "all",
    "archived",
    "csv",
    "json",
    "ops-lead@example.com",
    "admin@example.com",
    "catalog.brand",
    "accounts.user",
]
huge_ints = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, -1, MAX_ID, MAX_ID + 1, 2**64, -(2**63) - 1]),
)
text = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=40),  # any code point, NUL and controls included
    huge_ints.map(str),
    st.dates().map(dt.date.isoformat),
    st.sampled_from(sorted(VERBS)),
)
DAY_EDGES = ["9999-12-31", "0001-01-01", "10000-01-01", "0000-00-00", "2026-02-30", "0", "-1"]
days = st.one_of(
    st.sampled_from(DAY_EDGES), st.dates().map(dt.date.isoformat), st.dates().map(str), text
)
ids_as_text = st.one_of(
    huge_ints.map(str), st.sampled_from(["²", "١٢٣", "1" * 23, str(MAX_ID + 1), "0"]), text
)


def value_for(name: str):
    """Values for a parameter, weighted to what its name suggests it parses."""
    if name in ("from", "to") or name.startswith("date"):
        one = days
    elif name in ("actor", "page", "page_size") or name.endswith("_id"):
        one = ids_as_text
    elif name == "verb":
        one = st.one_of(st.sampled_from(sorted(VERBS)), text)
    else:
        one = text
    return st.one_of(one, st.lists(one, min_size=2, max_size=3))  # repeated keys


json_leaf = st.one_of(
    st.none(), st.booleans(), huge_ints, st.floats(), text, st.sampled_from(["media_buyer"])
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=3),
    max_leaves=10,
)

# The shared names (as on the API), and the page's old ones it still reads.
ACTIVITY_FILTERS = [
    "actor",
    "verb",
    "target_type",
    "date_from",
    "date_to",
    "q",
    "page",
    "type",
    "from",
    "to",
]
PAGES = [
    ("home", False, ["page"]),
    ("catalog:brand_list", False, ["q", "status", "page"]),
    ("catalog:ad_account_list", True, ["q", "status", "page"]),
    ("catalog:pixel_list", True, ["q", "status", "token", "capi", "fired", "page"]),
    ("members:list", True, ["q", "page"]),
    ("activity:list", True, ACTIVITY_FILTERS),
    ("activity:export", True, [*ACTIVITY_FILTERS, "format"]),
    ("taxonomy:plan", True, ["q", "status", "source", "platform", "page"]),
    ("taxonomy:drift", True, []),
    ("taxonomy:naming", True, []),
    ("taxonomy:naming_test", True, ["level", "name"]),
    ("taxonomy:naming_build", True, ["level", "build", "campaign", "market", "objective"]),
    ("taxonomy:plan_export", True, []),
    ("consent:matrix", True, ["q", "status", "page"]),
    # quality: crm
    ("quality:conversions", True, ["page"]),
    ("quality:reconciliation", True, ["account", "event", "start", "end"]),
    ("quality:reconciliation_export", True, ["account", "event", "start", "end"]),
    # quality: alerts
    ("quality:alerts", True, ["q", "status", "kind", "page"]),
    # quality: pages
    ("quality:pixels", True, ["q", "show", "sort", "page"]),
    ("quality_all:pixels", False, ["q", "show", "sort", "brand", "page"]),
    ("quality:settings", True, ["page"]),
    # launches: review
    ("launches_global:queue", False, ["q", "brand", "account", "waiting", "page"]),
    # launches: drafts and budget limits
    ("launches:list", True, ["q", "state", "ad_account", "mine", "sort", "page"]),
    ("launches:structure_row", True, ["kind", "set", "ad"]),
    ("launches:name_check", True, ["level", "name"]),
    ("launches:limits", True, ["page"]),
]


def _rolled_back(send):
    """Run ``send`` in a transaction that is then rolled back."""
    with transaction.atomic():
        response = send()
        transaction.set_rollback(True)
    return response


def _query(names: list[str]):
    """Each parameter present or not, plus one nobody asked for."""
    return st.fixed_dictionaries({}, optional={name: value_for(name) for name in [*names, "extra"]})


@pytest.fixture(autouse=True)
def _no_throttle(settings):
    settings.API_THROTTLE_RATE = ""


# --- the pages' list filters ---------------------------------------------------------------


@pytest.mark.parametrize(("name", "takes_slug", "params"), PAGES, ids=[p[0] for p in PAGES])
@FUZZ
@given(data=st.data())
def test_page_filters_never_answer_5xx(web, seeded, name, takes_slug, params, data):
    url = reverse(name, args=[seeded.slug] if takes_slug else [])
    query = data.draw(_query(params), label="query")
    htmx = data.draw(st.booleans(), label="htmx")
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}

    def send():
        response = web.get(url, query, **headers)
        if response.streaming:  # the export fails while streaming, if it fails
            b"".join(response.streaming_content)
        return response

    response = _rolled_back(send)
    assert response.status_code < 500, (name, query)


# --- the API, from its OpenAPI document ------------------------------------------------------


@functools.cache
def _operations() -> list[tuple[str, str, list[dict], dict | None]]:
    document = Client().get("/api/v1/openapi.json").json()
    components = document["components"]["schemas"]
    operations = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            body = None
            if "requestBody" in operation:
                schema = operation["requestBody"]["content"]["application/json"]["schema"]
                if "$ref" in schema:
                    schema = components[schema["$ref"].rsplit("/", 1)[1]]
                body = schema
            operations.append((path, method, operation.get("parameters", []), body))
    return operations


def _path_value(name: str, principal_ids: list[int]):
    if name == "slug":
        return st.one_of(st.sampled_from(["own-brand", "foreign-brand", "nope"]), text)
    if name.endswith("_id"):
        return st.one_of(st.sampled_from(principal_ids), huge_ints, text)
    return text


def _body(schema: dict | None):
    if schema is None:
        return st.none()
    fields = {
        name: st.one_of(
            json_value,
            st.lists(huge_ints, max_size=3),
            st.sampled_from(
                [e for spec in schema["properties"].values() for e in spec.get("enum", [])]
                or [None]
            ),
        )
        for name in schema.get("properties", {})
    }
    whole = st.fixed_dictionaries({}, optional=fields).map(json.dumps)
    return st.one_of(
        whole,
        whole,
        json_value.map(lambda value: json.dumps(value)),  # not an object at all
        st.binary(max_size=40).map(lambda raw: raw.decode("latin-1")),  # not JSON
        st.just('{"email": "\\ud800", "role": "analyst"}'),  # a lone surrogate
    )


@pytest.mark.parametrize(
    ("path", "method", "parameters", "body_schema"),
    _operations(),
    ids=[f"{method.upper()} {path}" for path, method, _, _ in _operations()],
)
@FUZZ
@given(data=st.data())
def test_api_parameters_and_bodies_never_answer_5xx(
    api, seeded, ops_lead, admin_user, path, method, parameters, body_schema, data
):
    ids = [ops_lead.pk, admin_user.pk]
    url = path
    for parameter in parameters:
        if parameter["in"] == "path":
            value = data.draw(_path_value(parameter["name"], ids), label=parameter["name"])
            # Path segments are URL-quoted by the client; "/" in a value is a new segment.
            url = url.replace(f"{{{parameter['name']}}}", _quote(str(value)))
    query_names = [p["name"] for p in parameters if p["in"] == "query"]
    query = data.draw(_query(query_names), label="query") if query_names else {}
    body = data.draw(_body(body_schema), label="body")

    def send():
        kwargs: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {api.token}"}
        if body is not None:
            return getattr(api.client, method)(
                url, body, content_type="application/json", QUERY_STRING=_urlencode(query), **kwargs
            )
        return getattr(api.client, method)(url, query, **kwargs)

    response = _rolled_back(send)
    assert response.status_code < 500, (method, url, query, body)
    if response.status_code != 204:
        assert response["Content-Type"].startswith("application/json"), response.content[:200]


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="") or "%20"


def _urlencode(query: dict) -> str:
    from urllib.parse import urlencode

    return urlencode(query, doseq=True)


def test_fuzzed_api_covers_every_documented_operation():
    """Guards the fuzz above: it reads the operations it draws from the document."""
    operations = {(method, path) for path, method, _, _ in _operations()}
    assert ("get", "/api/v1/brands/{slug}/activity") in operations
    assert ("post", "/api/v1/brands/{slug}/members") in operations
    assert all(re.match(r"^/api/v1/", path) for _, path in operations)
