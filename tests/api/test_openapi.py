"""The OpenAPI document covers exactly the registered routes, and the docs page works
from our own static files (no CDN) under the site's content security policy."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from koastops.api.api import api

pytestmark = pytest.mark.django_db

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def registered_routes() -> set[tuple[str, str]]:
    """(path, method) of every operation registered on the NinjaAPI, as OpenAPI spells
    the path: the API's root, the router prefix, the route with ``{param}``s."""
    api.urls  # noqa: B018 - binds the routers, which fills api._routers
    root = "/api/v1/"
    routes = set()
    for prefix, router in api._routers:
        for route, path_view in router.path_operations.items():
            path = re.sub(
                r"\{\w+:(\w+)\}",
                r"{\1}",
                root + "/".join(p for p in (prefix, route) if p).lstrip("/"),
            )
            for operation in path_view.operations:
                routes |= {(path, method.lower()) for method in operation.methods}
    return routes


def documented_routes(schema: dict) -> set[tuple[str, str]]:
    return {
        (path, method)
        for path, item in schema["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def test_openapi_document_is_valid_json_and_openapi_3():
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "koastops API"
    assert schema["info"]["version"] == "1"


def test_openapi_document_has_no_duplicate_keys():
    """Swagger UI refuses a document with a key twice (ninja's int 422 beside "422")."""

    def no_duplicates(pairs):
        keys = [key for key, _ in pairs]
        assert len(keys) == len(set(keys)), keys
        return dict(pairs)

    json.loads(Client().get("/api/v1/openapi.json").content, object_pairs_hook=no_duplicates)


def test_every_route_is_documented_and_every_documented_route_exists():
    schema = Client().get("/api/v1/openapi.json").json()
    registered = registered_routes()
    assert registered, "no routes found on the NinjaAPI"
    assert registered == documented_routes(schema)
    assert ("/api/v1/brands/{slug}/members/{user_id}", "delete") in registered


def test_every_operation_declares_bearer_auth_and_its_errors():
    schema = Client().get("/api/v1/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert [scheme["scheme"] for scheme in schemes.values()] == ["bearer"]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            assert operation.get("security"), f"{method.upper()} {path} has no security"
            assert "401" in operation["responses"], f"{method.upper()} {path} lacks 401"


def test_pixel_schema_has_no_secret_field():
    schema = Client().get("/api/v1/openapi.json").json()
    properties = schema["components"]["schemas"]["PixelOut"]["properties"]
    assert "has_access_token" in properties
    assert not any("encrypted" in name for name in properties)


def test_docs_page_answers_and_uses_only_local_static_files():
    client = Client()
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls
    assert not [url for url in urls if re.match(r"(https?:)?//", url)], urls
    assert "cdn" not in html.lower()
    for url in urls:
        assert url.startswith("/static/ninja/"), url
        assert client.get(url).status_code == 200, url


def test_docs_page_keeps_the_strict_content_security_policy():
    response = Client().get("/api/v1/docs")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    # The only inline <script> is a JSON data block, which CSP does not execute or block.
    html = response.content.decode()
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline == [' type="application/json" id="swagger-settings"']
    assert " style=" not in html and "<style" not in html


def _operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield f"{method.upper()} {path}", operation


def test_every_answer_ninja_can_give_is_documented():
    """422 wherever a parameter or body can be malformed (a path id out of range too),
    400 where a body can be unparsable, 429 everywhere (throttling)."""
    schema = Client().get("/api/v1/openapi.json").json()
    for name, operation in _operations(schema):
        responses = operation["responses"]
        assert "429" in responses, name
        if operation.get("parameters") or "requestBody" in operation:
            assert "422" in responses, name
        if "requestBody" in operation:
            assert "400" in responses, name
    revoke = schema["paths"]["/api/v1/brands/{slug}/members/{user_id}"]["delete"]
    assert "422" in revoke["responses"]
    [user_id] = [p for p in revoke["parameters"] if p["name"] == "user_id"]
    assert user_id["schema"]["minimum"] == 1
    assert user_id["schema"]["maximum"] == 2**63 - 1


def test_activity_verb_is_documented_as_the_registry_enum():
    from koastops.activity.verbs import VERBS

    schema = Client().get("/api/v1/openapi.json").json()
    parameters = schema["paths"]["/api/v1/brands/{slug}/activity"]["get"]["parameters"]
    [verb] = [p for p in parameters if p["name"] == "verb"]
    enums = [option.get("enum") for option in verb["schema"].get("anyOf", [verb["schema"]])]
    # Every registered verb, and "" (left empty, as the page's form sends it: any verb).
    assert [*sorted(VERBS), ""] in enums, verb
