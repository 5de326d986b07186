"""``/aws`` as production serves it: ``awsapi.wsgi`` in front of Django (the live server is wired the same way).

What Django's handler did for the API and the route must keep doing: the Host header checked against ALLOWED_HOSTS,
the body capped, NUL characters refused, SecurityMiddleware's headers, and every refusal in AWS's XML with a 4xx
status, never Django's HTML error page and never a 500.
"""

from __future__ import annotations

import http.client
import urllib.parse
import xml.etree.ElementTree as ET

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from identities.models import IamUser

NS = "{https://iam.amazonaws.com/doc/2010-05-08/}"


def post(live_server, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    address = urllib.parse.urlsplit(live_server.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    try:
        connection.request("POST", "/aws", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def signed(live_server, keys: tuple[str, str], form: str, host: str | None = None) -> tuple[bytes, dict[str, str]]:
    address = urllib.parse.urlsplit(live_server.url)
    request = AWSRequest(
        method="POST",
        url=f"http://{host or address.netloc}/aws",
        data=form.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(Credentials(*keys), "iam", "us-east-1").add_auth(request)
    prepared = request.prepare()
    return prepared.body, {**prepared.headers, "Host": host or address.netloc}


def error_code(body: bytes) -> str:
    return ET.fromstring(body).findtext(f"{NS}Error/{NS}Code")


def test_a_signed_call_is_answered_without_the_consoles_middleware(live_server, root_keys):
    body, headers = signed(live_server, root_keys, "Action=CreateUser&UserName=wsgi-route&Version=2010-05-08")
    status, response_headers, content = post(live_server, body, headers)

    assert status == 200, content
    assert ET.fromstring(content).findtext(f"{NS}CreateUserResult/{NS}User/{NS}UserName") == "wsgi-route"
    assert response_headers["content-type"] == "text/xml"
    assert response_headers["x-content-type-options"] == "nosniff"
    assert response_headers["x-amzn-requestid"]
    assert "set-cookie" not in response_headers and "content-security-policy" not in response_headers
    assert IamUser.objects.filter(name="wsgi-route").exists()


def test_an_unknown_host_is_refused_in_aws_format(live_server, root_keys, settings):
    settings.ALLOWED_HOSTS = ["localhost"]
    body, headers = signed(
        live_server, root_keys, "Action=CreateUser&UserName=evil&Version=2010-05-08", host="evil.example"
    )
    status, _, content = post(live_server, body, headers)

    assert status == 400 and error_code(content) == "InvalidParameterValue"
    assert not IamUser.objects.filter(name="evil").exists()


def test_nul_characters_are_refused_and_change_nothing(live_server, root_keys):
    body, headers = signed(live_server, root_keys, "Action=CreateUser&UserName=nul%00user&Version=2010-05-08")
    status, _, content = post(live_server, body, headers)

    assert status == 400 and error_code(content) == "InvalidParameterValue"
    assert b"NUL characters" in content
    assert not IamUser.objects.filter(name__startswith="nul").exists()


def test_a_body_over_the_upload_limit_is_refused(live_server, root_keys, settings):
    form = "Action=CreateUser&UserName=big&Version=2010-05-08&Padding=" + "a" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    body, headers = signed(live_server, root_keys, form)
    status, _, content = post(live_server, body, headers)

    assert status == 400 and error_code(content) == "InvalidParameterValue"
    assert not IamUser.objects.filter(name="big").exists()
