"""The API answers JSON to whoever asks for it or for anything, and 406 to the rest."""

from __future__ import annotations

import pytest
from django.urls import reverse


@pytest.mark.parametrize(
    "accept",
    [None, "*/*", "application/json", "application/json; charset=utf-8", "text/html, */*;q=0.1"],
)
def test_json_or_anything_gets_json(staff_client, assessment, accept):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}

    response = staff_client.get(reverse("api:assessments"), **headers)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert [row["name"] for row in response.json()] == ["Graduates 2027"]


def test_an_accept_header_the_api_cannot_meet_is_406(staff_client, assessment):
    response = staff_client.get(reverse("api:assessments"), HTTP_ACCEPT="text/html")

    assert response.status_code == 406
    assert response.json()["error"]["code"] == "not_acceptable"
