"""schemathesis against the API's own OpenAPI document, in-process over WSGI: every
operation the document lists (routes added later included), all checks, every phase
(examples, coverage, fuzzing and the stateful one), as an ops lead of a seeded brand.
Zero failures: no 5xx, every status and body as documented, bad input refused.

Bounded (``max-examples`` 12 per operation, ``max-steps``) to keep it under a minute; raise them locally with
``SCHEMATHESIS_MAX_EXAMPLES=500``. Threads of the engine open their own database
connections, hence committed data (``transactional_db``)."""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from django.db import connections
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.accounts.tokens import api_token_create
from tests.factories import AdAccountFactory, BrandFactory, PixelFactory, UserFactory

ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "422", "428", "429", "5xx"]
# A body over DATA_UPLOAD_MAX_MEMORY_SIZE is refused as 413 before it is read, whether or
# not it would be valid (10,000 names of 1,000 characters each are 10 MB).
REJECTED = ["400", "401", "403", "404", "406", "413", "422", "428"]
BUSINESS_RULES_422 = {
    "positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "413"]},
    "negative_data_rejection": {"expected-statuses": REJECTED},
}
# Launch writes carry If-Match: a version other than the launch's answers 412 (RFC 7232),
# and an intent the launch's state does not allow 409 — both documented, both business rules
# a schema cannot state.
LAUNCH_RULES = {
    "positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "412", "413"]},
    "negative_data_rejection": {"expected-statuses": [*REJECTED, "409", "412"]},
}
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "12"))


@pytest.fixture
def ops_lead_token(transactional_db, settings) -> str:
    settings.API_THROTTLE_RATE = ""  # thousands of requests from one user, on purpose
    brand = BrandFactory(slug="seeded-brand", name="Seeded Brand")
    account = AdAccountFactory(brand=brand)
    PixelFactory(brand=brand).ad_accounts.add(account)
    lead = UserFactory(email="lead@example.com")
    policies.grant_role(lead, brand, Role.OPS_LEAD)
    for n in range(3):
        policies.grant_role(UserFactory(email=f"member-{n}@example.com"), brand, Role.ANALYST)
    _, raw = api_token_create(user=lead, name="schemathesis")
    return raw


def _failures(event: events.ScenarioFinished) -> list[str]:
    found = []
    for case_id, checks in event.recorder.checks.items():
        for check in checks:
            if check.status == Status.FAILURE:
                case = event.recorder.cases[case_id].value
                interaction = event.recorder.interactions.get(case_id)
                answer = ""
                if interaction is not None and interaction.response is not None:
                    response = interaction.response
                    answer = f" -> {response.status_code} {response.text[:300]}"
                found.append(
                    f"[{check.name}] {case.method} {case.formatted_path} "
                    f"query={case.query} body={case.body!r}{answer}"
                )
    return found


@pytest.fixture
def wsgi_probes_without_socket_options(monkeypatch):
    """schemathesis 4.32's ``ignored_auth`` check re-sends a case over WSGI with the
    run's socket options (``max_redirects``, ``verify``, ...), which werkzeug's test
    client refuses (TypeError). Its WSGI transport drops them only for a requests
    session; drop them for every call."""
    from schemathesis.transport.wsgi import WSGITransport

    send = WSGITransport.send

    def send_without_socket_options(self, case, *, session=None, **kwargs):
        if session is None:
            for name in ("max_redirects", "verify", "cert", "proxies"):
                kwargs.pop(name, None)
        return send(self, case, session=session, **kwargs)

    monkeypatch.setattr(WSGITransport, "send", send_without_socket_options)


def _closing_connections(application):
    """The engine's threads each open a database connection; close it after every
    request (as a server's request cycle does), so none is left open at teardown."""

    def wrapped(environ, start_response):
        result = application(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            result.close()
            connections.close_all()
        return [body]

    return wrapped


def test_api_conforms_to_its_openapi_document(ops_lead_token, wsgi_probes_without_socket_options):
    from koastops.wsgi import application

    config = SchemathesisConfig.from_dict(
        {
            "seed": 6,
            "headers": {"Authorization": f"Bearer {ops_lead_token}"},
            "parameters": {"slug": "seeded-brand"},
            "generation": {"max-examples": MAX_EXAMPLES},
            "phases": {"stateful": {"max-steps": 10, "generation": {"max-examples": 10}}},
            "workers": 1,
            # A schema-valid request may still break a rule the schema cannot state: a
            # write naming a user or ad account that does not exist, a date range whose
            # end is before its start, revoking a brand's last ops lead. Those answer 422
            # by the field, which positive_data_acceptance must then accept (as it accepts
            # 404 and 409). Writes to an existing object also need If-Match, which the
            # schema documents as an optional header so that leaving it out answers the
            # documented 428 (RFC 6585) rather than a validation error.
            "operations": [
                {"include-path-regex": "/launches", "checks": LAUNCH_RULES},
                {
                    "include-method": ["POST", "PUT", "PATCH", "DELETE"],
                    "checks": BUSINESS_RULES_422,
                },
                {"include-path-regex": "/activity$", "checks": BUSINESS_RULES_422},
                {"include-path-regex": "/stats$", "checks": BUSINESS_RULES_422},
            ],
        }
    )
    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/openapi.json", _closing_connections(application), config=config
    )

    failures: list[str] = []
    errors: list[str] = []
    phases: dict[str, Any] = {}
    transitions = 0
    scenarios = 0
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            scenarios += 1
            failures.extend(_failures(event))
        elif isinstance(event, events.NonFatalError):
            errors.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            errors.append(f"fatal: {event.exception!r}")
        elif isinstance(event, events.PhaseStarted) and event.payload is not None:
            transitions = event.payload.transitions_selected
        elif isinstance(event, events.PhaseFinished):
            phases[event.phase.name.value] = event.status
        elif isinstance(event, events.EngineFinished):
            failures.extend(str(failure) for failure in event.failures)

    assert not errors, "\n".join(errors)
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(sorted(set(failures))[:40])
    assert scenarios
    for phase in ("coverage", "fuzzing", "stateful"):
        assert phases.get(phase) == Status.SUCCESS, phases
    assert transitions > 0, "the stateful phase found no links between operations"
