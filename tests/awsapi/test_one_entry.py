"""``/aws`` has one entry (``awsapi.wsgi.respond``): the test client gets what production serves, with the same host
check, body cap, NUL check and headers, and none of the console's middleware."""

from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_a_nul_character_is_refused_in_aws_format_under_the_test_client_too(client):
    response = client.post(
        "/aws", data="Action=ListUsers&UserName=a%00b", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert b"<Code>InvalidParameterValue</Code>" in response.content  # not the console's plain-text 400
    assert b"Requests may not contain NUL characters." in response.content


@pytest.mark.django_db
def test_the_test_client_gets_production_s_headers_and_no_console_middleware(client, settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    response = client.post("/aws", data="Action=ListUsers", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 403  # unsigned: MissingAuthenticationToken
    assert response["Content-Type"] == "text/xml"
    assert response["Content-Length"] == str(len(response.content))
    assert response["x-amzn-RequestId"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Set-Cookie" not in response and "Content-Security-Policy" not in response
    assert "X-Frame-Options" not in response  # the console's clickjacking middleware never ran

    refused = client.post("/aws", data="Action=ListUsers", content_type="text/plain", HTTP_HOST="evil.example")
    assert refused.status_code == 400 and b"names a host this server does not answer for" in refused.content

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    too_big = client.post("/aws", data="Action=ListUsers&x=" + "a" * 20, content_type="text/plain")
    assert too_big.status_code == 400 and b"The request body is too large." in too_big.content
