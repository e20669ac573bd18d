"""Staff sockets refuse a session that owes its two-factor step (owners and admins)."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from pymetrics.accounts.models import Role
from pymetrics.accounts.services import api_key_create, user_create
from pymetrics.accounts.tests.helpers import login_verified
from pymetrics.realtime.tests.test_staff_sockets import APPLICATION, _refused_with, _token_headers

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def _owner(organization):
    return user_create(
        email="olga@acme.example", password=None, organization=organization, role=Role.OWNER
    )


def _cookie(client: Client) -> list[tuple[bytes, bytes]]:
    return [(b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())]


async def test_an_owner_session_without_its_code_is_refused(organization, assessment) -> None:
    owner = await sync_to_async(_owner)(organization)
    client = Client()
    await sync_to_async(client.force_login)(owner)

    socket = WebsocketCommunicator(
        APPLICATION, f"/ws/dashboard/{assessment.pk}/", headers=_cookie(client)
    )

    assert await _refused_with(socket) == 4401


async def test_a_verified_owner_session_is_let_in(organization, assessment) -> None:
    owner = await sync_to_async(_owner)(organization)
    client = Client()
    await sync_to_async(login_verified)(client, owner)

    socket = WebsocketCommunicator(
        APPLICATION, f"/ws/dashboard/{assessment.pk}/", headers=_cookie(client)
    )
    connected, _ = await socket.connect()

    assert connected
    assert await socket.receive_json_from() == {"type": "hello", "assessment_id": assessment.pk}
    await socket.disconnect()


async def test_an_owners_api_key_needs_no_code(organization, assessment) -> None:
    owner = await sync_to_async(_owner)(organization)
    key = await sync_to_async(lambda: api_key_create(user=owner).plaintext)()

    socket = WebsocketCommunicator(
        APPLICATION, f"/ws/dashboard/{assessment.pk}/", headers=_token_headers(key)
    )
    connected, _ = await socket.connect()

    assert connected
    assert (await socket.receive_json_from())["type"] == "hello"
    await socket.disconnect()
