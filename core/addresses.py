"""The caller's network address: ``REMOTE_ADDR``, or behind trusted reverse proxies the address they saw.

One function for the whole product: the sign-in throttle, the audit record's ``sourceIPAddress`` and the
``aws:SourceIp`` condition key all read the address from here (console, Query API under Django, Query API in
front of Django).

``TRUSTED_PROXY_HOPS`` (environment, default 0) says how many reverse proxies stand between the clients and this
server. Each proxy appends the address it received the request from to ``X-Forwarded-For``, so with N trusted
proxies the client's address is the N-th entry from the right; anything further left was written by the client
and is ignored. With 0 the header is ignored entirely (a client could write anything in it). A header shorter
than N entries, or an entry that is not an IP address, was not written by our proxies: ``REMOTE_ADDR`` is used.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from django.conf import settings

DEFAULT = "127.0.0.1"


def trusted_proxy_hops() -> int:
    return max(0, int(getattr(settings, "TRUSTED_PROXY_HOPS", 0) or 0))


def client_address(remote_addr: str | None, forwarded_for: str | None) -> str:
    """The client's address, from the connection's peer and the ``X-Forwarded-For`` header (either may be
    missing)."""
    peer = remote_addr or DEFAULT
    hops = trusted_proxy_hops()
    if hops == 0 or not forwarded_for:
        return peer
    chain = [part.strip() for part in forwarded_for.split(",")]
    if len(chain) < hops:
        return peer
    return _ip(chain[-hops]) or peer


def is_secure(environ: Mapping[str, Any]) -> bool:
    """Whether a request (its WSGI environ) came over HTTPS, by Django's rule (``HttpRequest.is_secure``): the
    ``SECURE_PROXY_SSL_HEADER`` that ``BEHIND_TLS_PROXY`` turns on when it is present, else the WSGI scheme. For
    ``/aws``, answered before Django builds a request (``awsapi.wsgi``); it sets ``aws:SecureTransport``."""
    proxy_header = settings.SECURE_PROXY_SSL_HEADER
    if proxy_header:
        name, secure_value = proxy_header
        value = environ.get(name)
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return environ.get("wsgi.url_scheme") == "https"


def _ip(text: str) -> str | None:
    """The IP address in ``text`` (``1.2.3.4``, ``2001:db8::1``, also ``1.2.3.4:5678`` and ``[2001:db8::1]:443``
    as some proxies write them); None when it holds none."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return None
    return text
