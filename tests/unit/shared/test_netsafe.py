"""The SSRF guard of every outbound request (references, webhooks): which addresses count as public."""

import pytest

from shared.netsafe import UnsafeURL, check_url_static


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/x", "http://10.0.0.1/x", "http://172.16.5.4/x", "http://192.168.1.1/x",
    "http://169.254.169.254/latest/meta-data/", "http://100.64.0.1/x", "http://100.127.255.254/x",
    "http://[::1]/x", "http://[fe80::1]/x", "http://[fc00::1]/x", "http://[2002:7f00:1::]/x",
    "http://[::ffff:127.0.0.1]/x", "http://0.0.0.0/x", "http://localhost/x", "http://a.localhost/x",
    "file:///etc/passwd", "ftp://example.com/x", "gopher://example.com/x"])
def test_non_public_targets_are_refused(url: str) -> None:
    with pytest.raises(UnsafeURL):
        check_url_static(url)


@pytest.mark.parametrize("url", ["https://example.com/x", "http://93.184.215.14/x", "http://100.128.0.1/x",
                                 "http://[2001:4860:4860::8888]/x"])
def test_public_targets_pass(url: str) -> None:
    check_url_static(url)


def test_an_allowed_host_port_passes_although_private() -> None:
    check_url_static("http://127.0.0.1:9000/hook", frozenset({"127.0.0.1:9000"}))
    with pytest.raises(UnsafeURL):
        check_url_static("http://127.0.0.1:9001/hook", frozenset({"127.0.0.1:9000"}))
