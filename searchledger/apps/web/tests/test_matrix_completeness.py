"""The authorization matrix covers every URL: checks of the check.

``test_authorization.test_every_url_pattern_is_in_the_matrix`` walks the URLconf (includes,
namespaces and the ninja API's operations, one pattern each) and fails on a URL the matrix
does not name. These tests make sure that it does fail, with a URLconf that adds unlisted
URLs; that no two URL patterns share a name (a second pattern under a listed name would pass
unseen); and that an API route answers only the methods the matrix tries on it (405 for the
rest), so a new method on an existing route cannot slip in either.
"""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from searchledger.apps.web.tests import test_authorization as matrix
from searchledger.apps.web.tests.test_authorization import MATRIX, SAMPLE_CONTEXT, Kind

UNLISTED_URLS = "searchledger.apps.web.tests.unlisted_urls"
METHODS = ("get", "post", "put", "patch", "delete")


def _names_with_routes() -> list[tuple[str, str]]:
    """(namespaced name, route) of every pattern, duplicates kept."""
    found: list[tuple[str, str]] = []

    def walk(patterns: list[URLPattern | URLResolver], prefix: str, namespace: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
                walk(pattern.url_patterns, route, inner)
            else:
                found.append((namespace + str(pattern.name), route))

    walk(get_resolver().url_patterns, "/", "")
    return found


def _shared_names() -> dict[str, list[str]]:
    """Names given to more than one pattern, with their routes."""
    found = _names_with_routes()
    counts = Counter(name for name, _ in found)
    return {
        name: [route for other, route in found if other == name]
        for name, count in counts.items()
        if count > 1
    }


def test_no_two_url_patterns_share_a_name():
    assert _shared_names() == {}


@pytest.mark.urls(UNLISTED_URLS)
def test_the_matrix_check_reports_every_unlisted_url():
    with pytest.raises(AssertionError) as failure:
        matrix.test_every_url_pattern_is_in_the_matrix()
    message = str(failure.value)
    for unlisted in (
        "'unlisted_page': '/unlisted-page/'",
        "'unlisted_section:inner_page': '/unlisted-section/inner/'",
        "'unlisted_api:unlisted_operation': '/unlisted-api/thing'",
    ):
        assert unlisted in message, message
    # The reused name is not "missing" (home is listed); the check above catches it.
    assert _shared_names() == {"home": ["/", "/home-again/"]}


def test_the_matrix_check_passes_on_the_project_urlconf():
    # The control for the test above: same check, the real URLconf.
    matrix.test_every_url_pattern_is_in_the_matrix()


def _api_routes() -> dict[str, tuple[str, set[str]]]:
    """Each API route (as the URLconf spells it): an example path and every method the
    matrix tries on it, over all the operations sharing the route."""
    routes = dict(_names_with_routes())
    found: dict[str, tuple[str, set[str]]] = {}
    for name, rule in MATRIX.items():
        if rule.kind is not Kind.API:
            continue
        path = urlsplit(rule.probes[0].path.format(**SAMPLE_CONTEXT)).path
        _, methods = found.setdefault(routes[name], (path, set()))
        methods.update(probe.method for probe in rule.probes)
    return found


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "example", "tried"), [(r, *v) for r, v in _api_routes().items()])
def test_an_api_route_answers_only_the_methods_in_the_matrix(route, example, tried):
    client = Client()
    for method in METHODS:
        if method in tried:
            continue
        response = getattr(client, method)(example)
        assert response.status_code == 405, (route, method, response.status_code)
