"""Property-based API testing from the OpenAPI schema: no input may produce a 5xx.

Each operation in /api/v1/schema/ gets a bounded number of generated requests (valid and
invalid bodies, ids and query strings), sent through the real WSGI application as a clinic
admin with every scope.
"""

import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.conftest import make_persona

pytestmark = pytest.mark.django_db
EXAMPLES = 12


def _raw_schema() -> dict:
    # Through JSON, as an integrator receives it.
    return json.loads(
        json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str)
    )


def _operation_labels() -> list[str]:
    import django

    django.setup()
    schema = schemathesis.openapi.from_dict(_raw_schema())
    return [result.ok().label for result in schema.get_all_operations()]


@pytest.fixture
def connection_kept_open():
    # As Django's test client does: requests must not close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.parametrize("label", _operation_labels())
def test_no_input_makes_the_api_fail(label, clinic_a, alices_client, connection_kept_open) -> None:
    from config.wsgi import application

    token = make_persona(clinic_a, role="clinic_admin").token
    schema = schemathesis.openapi.from_dict(_raw_schema())
    schema.app = application  # calls go through the WSGI app in this process
    operation = next(r.ok() for r in schema.get_all_operations() if r.ok().label == label)

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        response = case.call(headers={"Authorization": f"Bearer {token}"})
        case.validate_response(response, checks=[not_a_server_error])

    run()
