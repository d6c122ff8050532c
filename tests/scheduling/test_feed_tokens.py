from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from scheduling.calendar.feeds import feed_token, provider_for_feed_token, rotate_feed_token
from tests.factories import ProviderFactory
from tests.scheduling.ical_parsers import parse

pytestmark = pytest.mark.django_db


def _path(token: str) -> str:
    return f"/calendar/{token}.ics"


def _opens(client, path: str) -> bool:
    """The path answers with a feed that both parsers read."""
    response = client.get(path)
    if response.status_code != 200:
        return False
    parse(response.content)
    return True


def test_an_unknown_token_is_404_with_an_empty_body(client) -> None:
    ProviderFactory()
    response = client.get(_path("A" * 22))
    assert response.status_code == 404
    assert response.content == b""


@pytest.mark.parametrize("token", ["", "x" * 65, "%00", "..", "a b"])
def test_malformed_tokens_are_404_with_an_empty_body(client, token: str) -> None:
    response = client.get(_path(token))
    assert response.status_code == 404
    assert response.content == b""


def test_a_provider_without_a_feed_opens_for_no_token() -> None:
    ProviderFactory(feed_token_hash="", feed_token_salt="")
    assert provider_for_feed_token("") is None
    assert provider_for_feed_token(hashlib.sha256(b"").hexdigest()) is None


def test_a_near_miss_token_is_refused(client) -> None:
    token = feed_token(provider=ProviderFactory())
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.get(_path(tampered)).status_code == 404
    assert client.get(_path(token.upper())).status_code in (200, 404)  # never a 500
    assert _opens(client, _path(token))


def test_the_token_is_long_random_and_stored_only_as_its_hash() -> None:
    first, second = ProviderFactory(), ProviderFactory()
    token = feed_token(provider=first)
    first.refresh_from_db()
    assert len(token) >= 22
    assert token != feed_token(provider=second)
    assert first.feed_token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (first.feed_token_salt, first.feed_token_hash)


def test_the_current_token_is_the_same_every_time_it_is_asked_for() -> None:
    provider = ProviderFactory()
    token = feed_token(provider=provider)
    provider.refresh_from_db()
    assert feed_token(provider=provider) == token
    assert provider_for_feed_token(token).pk == provider.pk


def test_rotation_makes_the_old_token_404_at_once(client) -> None:
    provider = ProviderFactory()
    old = feed_token(provider=provider)
    assert _opens(client, _path(old))

    new = rotate_feed_token(provider=provider)

    assert new != old
    old_response = client.get(_path(old))
    assert old_response.status_code == 404 and old_response.content == b""
    assert _opens(client, _path(new))


def test_the_command_prints_the_feed_url_and_rotates_it(client) -> None:
    provider = ProviderFactory(slug="dana-whitfield")
    out = StringIO()
    call_command("calendar_feed_url", "dana-whitfield", stdout=out)
    url = out.getvalue().strip()
    assert url.startswith("http://testserver/calendar/") and url.endswith(".ics")

    again = StringIO()
    call_command("calendar_feed_url", "dana-whitfield", stdout=again)
    assert again.getvalue().strip() == url

    rotated = StringIO()
    call_command("calendar_feed_url", "dana-whitfield", "--rotate", stdout=rotated)
    new_url = rotated.getvalue().strip()
    assert new_url != url
    assert client.get(url.removeprefix("http://testserver")).status_code == 404
    assert _opens(client, new_url.removeprefix("http://testserver"))
    provider.refresh_from_db()
    assert provider_for_feed_token(new_url.rsplit("/", 1)[1].removesuffix(".ics")) == provider


def test_the_command_refuses_an_unknown_slug() -> None:
    with pytest.raises(CommandError, match="nobody"):
        call_command("calendar_feed_url", "nobody", stdout=StringIO())


def test_the_command_asks_for_rotation_when_the_url_cannot_be_derived(settings) -> None:
    provider = ProviderFactory(slug="dana-whitfield")
    feed_token(provider=provider)
    settings.SECRET_KEY = "another-secret-key-entirely"
    with pytest.raises(CommandError, match="--rotate"):
        call_command("calendar_feed_url", "dana-whitfield", stdout=StringIO())


def test_asking_for_the_url_with_a_stale_provider_row_does_not_revoke_the_issued_one(
    client,
) -> None:
    provider = ProviderFactory()
    stale = type(provider).objects.get(pk=provider.pk)  # read before any token exists
    token = feed_token(provider=provider)
    assert feed_token(provider=stale) == token
    assert _opens(client, _path(token))
