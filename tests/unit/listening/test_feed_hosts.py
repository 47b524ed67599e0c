"""Checks that a feed's URL cannot reach the platform's own network unless the setting allows it."""

import httpx
import pytest

from listening.feeds import FeedError, client_for, fetch


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8001/v1/people",
        "http://localhost/feed",
        "http://10.0.0.7/feed",
        "http://192.168.1.1/feed",
        "http://169.254.169.254/latest/meta-data/",  # a cloud's metadata service
        "http://100.64.0.1/feed",
        "http://[::1]/feed",
        "http://[fd00::1]/feed",
        "http://[::ffff:127.0.0.1]/feed",
        "http://0.0.0.0/feed",
    ],
)
def test_a_feed_on_a_private_network_is_refused_before_any_request(url):
    with pytest.raises(FeedError, match="private network"):
        fetch(url, timeout=1, max_bytes=1_000)


def transport(seen: list[str]) -> httpx.MockTransport:
    """Answers as the internet would; the metadata service's answer must never be read."""

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.host == "93.184.215.14":
            return httpx.Response(302, headers={"Location": "http://169.254.169.254/latest/"})
        return httpx.Response(200, text="secret")

    return httpx.MockTransport(answer)


def test_a_redirect_to_a_private_network_is_refused_too():
    seen: list[str] = []
    with (
        client_for(timeout=1, private_networks=False, transport=transport(seen)) as client,
        pytest.raises(FeedError, match=r"private network \(169\.254\.169\.254\)"),
    ):
        client.get("http://93.184.215.14/feed")
    assert seen == ["http://93.184.215.14/feed"]


def test_a_host_on_the_internet_is_fetched():
    seen: list[str] = []
    with client_for(timeout=1, private_networks=False, transport=transport(seen)) as client:
        assert client.get("http://8.8.8.8/feed").text == "secret"
    assert seen == ["http://8.8.8.8/feed"]


def test_the_setting_lets_feeds_inside_the_company_through():
    seen: list[str] = []
    with client_for(timeout=1, private_networks=True, transport=transport(seen)) as client:
        assert client.get("http://93.184.215.14/feed").text == "secret"
    assert seen == ["http://93.184.215.14/feed", "http://169.254.169.254/latest/"]
