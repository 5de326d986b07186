"""The visual policy editor: document <-> cards round trip, the Visual | JSON switch, the card operations (service,
actions, ARNs built from ARN parts, conditions), documents it can't show, and Next validating the cards' document."""

from __future__ import annotations

import json

import pytest

from policies import visual
from policies.models import ManagedPolicy

HX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "policy-editor"}
TEAM = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Statement1",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": ["arn:aws:s3:::team-bucket", "arn:aws:s3:::team-bucket/*"],
        },
        {
            "Sid": "DenyOutsideRegion",
            "Effect": "Deny",
            "Action": "ec2:*",
            "Resource": "*",
            "Condition": {
                "StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]},
                "Bool": {"aws:MultiFactorAuthPresent": "true"},
            },
        },
    ],
}


def _visual_form(**fields: object) -> dict[str, object]:
    form: dict[str, object] = {"editor_mode": "visual", "vis_count": "1", "v0-sid": "Statement1"}
    form.update(fields)
    return form


def test_a_representable_document_round_trips_through_the_cards():
    cards = visual.from_document(json.dumps(TEAM))
    assert [c.service for c in cards] == ["s3", "ec2"] and cards[1].all_actions and cards[1].all_resources
    assert cards[0].arns == ["arn:aws:s3:::team-bucket", "arn:aws:s3:::team-bucket/*"]
    assert visual.to_document(cards) == TEAM
    # The cards also survive the trip through the form fields the page carries.
    starter = visual.from_document(visual.to_text([visual.Card(sid="Statement1")]))
    assert visual.to_document(starter)["Statement"] == [
        {"Sid": "Statement1", "Effect": "Allow", "Action": [], "Resource": []}
    ]


def test_action_names_are_canonicalised_and_booleans_read_as_strings():
    text = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": {
                "Effect": "Allow",
                "Action": "S3:getobject",
                "Resource": "*",
                "Condition": {"bool": {"aws:SecureTransport": True}},
            },
        }
    )
    statement = visual.to_document(visual.from_document(text))["Statement"][0]
    assert statement["Action"] == "s3:GetObject" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "true"}}


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        ({"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}, "NotAction"),
        ({"Effect": "Allow", "Action": ["s3:GetObject", "iam:GetUser"], "Resource": "*"}, "more than one service"),
        ({"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}, r"s3:Get\* is not recognized"),
        ({"Effect": "Allow", "Action": "*", "Resource": "*"}, "is not recognized"),
        ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"Nope": {"a": "b"}}}, "Nope"),
    ],
)
def test_documents_the_cards_cannot_hold_say_why(statement, reason):
    with pytest.raises(visual.NotRepresentable, match=reason):
        visual.from_document(json.dumps({"Version": "2012-10-17", "Statement": [statement]}))


def test_create_page_offers_the_visual_json_switch_and_switching_to_visual_shows_the_cards(root_client):
    page = root_client.get("/iam/policies/create").content.decode()
    assert 'id="editor-visual"' in page and 'id="editor-json"' in page and "<textarea" not in page
    assert 'id="v0-filter"' in page and 'name="vis_count" value="1"' in page  # one empty card, as AWS opens
    response = root_client.post(
        "/iam/policies/visual", {"visual_op": "mode:visual", "policy_document": json.dumps(TEAM)}, **HX
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and 'id="policy-editor"' in html
    assert 'name="vis_count" value="2"' in html and html.count('data-testid="visual-card"') == 2
    assert 'id="v0-action-ListBucket" name="v0-action" value="ListBucket" checked' in html
    assert "arn:aws:s3:::team-bucket/*" in html and 'data-testid="resource-type-object"' in html
    assert 'id="validation-findings"' in html  # the findings panel rides along (hx-select-oob)


def test_switching_back_to_json_writes_the_cards_document(root_client):
    html = root_client.post(
        "/iam/policies/visual", {"visual_op": "mode:visual", "policy_document": json.dumps(TEAM)}, **HX
    )
    form = _form_fields(html.content.decode())
    form["visual_op"] = "mode:json"
    back = root_client.post("/iam/policies/visual", form, **HX).content.decode()
    assert "<textarea" in back and 'name="editor_mode" value="json"' in back
    text = back.split("<textarea", 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]
    assert json.loads(_unescape(text)) == TEAM


def test_a_document_the_visual_editor_cannot_show_stays_in_json_with_the_message(root_client):
    document = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}]}
    )
    html = root_client.post("/iam/policies/visual", {"visual_op": "mode:visual", "policy_document": document}, **HX)
    text = html.content.decode()
    assert "<textarea" in text and visual.CANNOT_SHOW.replace("'", "&#x27;") in text and "NotAction" in text


def test_choosing_a_service_actions_and_arns_builds_the_statement(root_client):
    listing = root_client.post(
        "/iam/policies/visual",
        _visual_form(**{"v0-filter": "s3"}),
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="service-list-0",
    ).content.decode()
    assert listing.lstrip().startswith('<ul id="service-list-0"') and "<html" not in listing
    assert listing.index('id="v0-svc-s3"') < listing.index('id="v0-svc-s3') + 1  # Amazon S3 is offered first
    assert listing.index('id="v0-svc-') == listing.index('id="v0-svc-s3"')
    chosen = root_client.post("/iam/policies/visual", _visual_form(visual_op="service:0:s3"), **HX).content.decode()
    assert (
        'data-testid="chosen-service"' in chosen
        and "All s3 actions (s3:*)" in chosen
        and 'data-focus="v0-all"' in chosen
    )
    assert "<strong>List</strong>" in chosen and "<strong>Permissions management</strong>" in chosen
    assert (
        'class="access-level" data-testid="access-level" id="v0-level-List"' in chosen
    )  # nothing chosen yet: every access level starts folded
    filtered = root_client.post(
        "/iam/policies/visual",
        _visual_form(**{"v0-service": "s3", "v0-action": "GetObject", "v0-action-filter": "bucketpolicy"}),
        **HX,
    ).content.decode()
    assert 'access-level open" data-testid="access-level" id="v0-level-Read"' in filtered
    assert 'access-level open" data-testid="access-level" id="v0-level-Permissions_management"' in filtered
    assert (
        'filtered-out" title="Grants permission to retrieve objects from Amazon S3" data-action="getobject"' in filtered
    )
    assert (
        'class="checkbox" title="Grants permission to add or replace a bucket policy on a bucket" '
        'data-action="putbucketpolicy"' in filtered
    )
    assert 'class="access-level" data-testid="access-level" id="v0-level-Tagging"' in filtered
    base = {"v0-service": "s3", "v0-action": ["ListBucket", "GetObject"], "v0-resources": "specific"}
    missing = root_client.post(
        "/iam/policies/visual", _visual_form(visual_op="add_arn:0:bucket", **base), **HX
    ).content.decode()
    assert "Enter a value for BucketName or choose Any." in missing
    bucket = _visual_form(visual_op="add_arn:0:bucket", **base, **{"v0-b-bucket-BucketName": "team-bucket"})
    html = root_client.post("/iam/policies/visual", bucket, **HX).content.decode()
    assert 'name="v0-arn" value="arn:aws:s3:::team-bucket"' in html
    obj = _visual_form(
        visual_op="add_arn:0:object",
        **base,
        **{
            "v0-arn": "arn:aws:s3:::team-bucket",
            "v0-b-object-BucketName": "team-bucket",
            "v0-b-object-ObjectName-any": "1",
        },
    )
    html = root_client.post("/iam/policies/visual", obj, **HX).content.decode()
    document = json.loads(_unescape(html.split('name="policy_document" value="', 1)[1].split('"', 1)[0]))
    assert document["Statement"] == [TEAM["Statement"][0]]


def test_conditions_and_cards_are_added_and_removed(root_client):
    form = _visual_form(**{"v0-service": "s3", "v0-all": "1", "v0-resources": "all"})
    html = root_client.post("/iam/policies/visual", {**form, "visual_op": "add_condition:0"}, **HX).content.decode()
    assert html.count('data-testid="condition-row"') == 1 and 'list="v0-keys"' in html
    fields = {"v0-cop": "IpAddress", "v0-ck": "aws:SourceIp", "v0-cv": "203.0.113.0/24, 198.51.100.0/24"}
    html = root_client.post(
        "/iam/policies/visual", {**form, **fields, "visual_op": "add_statement"}, **HX
    ).content.decode()
    assert html.count('data-testid="visual-card"') == 2 and 'name="v1-sid" value="Statement2"' in html
    document = json.loads(_unescape(html.split('name="policy_document" value="', 1)[1].split('"', 1)[0]))
    assert document["Statement"][0]["Condition"] == {
        "IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "198.51.100.0/24"]}
    }
    removed = root_client.post(
        "/iam/policies/visual", {**form, **fields, "vis_count": "2", "visual_op": "remove_statement:1"}, **HX
    ).content.decode()
    assert removed.count('data-testid="visual-card"') == 1


def test_next_validates_the_cards_document_and_create_saves_it(root_client, account):
    empty = _visual_form(action="next")
    response = root_client.post("/iam/policies/create", empty, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="policy-wizard")
    assert response.status_code == 200 and 'data-testid="document-error"' in response.content.decode()
    assert 'name="editor_mode" value="visual"' in response.content.decode()  # still on the visual editor
    form = _visual_form(
        **{
            "v0-service": "s3",
            "v0-action": ["GetObject", "ListBucket"],
            "v0-resources": "specific",
            "v0-arn": ["arn:aws:s3:::team-bucket", "arn:aws:s3:::team-bucket/*"],
        }
    )
    step2 = root_client.post("/iam/policies/create", {**form, "action": "next"}).content.decode()
    assert "Review and create" in step2
    root_client.post("/iam/policies/create", {**form, "action": "create", "step": "2", "policy_name": "TeamBucket"})
    policy = ManagedPolicy.objects.get(account=account, name="TeamBucket")
    assert json.loads(policy.versions.get(is_default=True).document)["Statement"] == [TEAM["Statement"][0]]


def test_edit_policy_switches_to_visual_and_saves_the_cards_as_a_new_version(root_client, root_ctx):
    from urllib.parse import quote

    from policies import services

    policy = services.create_policy(root_ctx, policy_name="TeamRead", policy_document=json.dumps(TEAM))
    edit = f"/iam/policies/{quote(policy.arn, safe='')}/edit"
    page = root_client.get(edit).content.decode()
    assert 'id="editor-visual"' in page and "<textarea" in page
    html = root_client.post(
        "/iam/policies/visual", {"visual_op": "mode:visual", "policy_document": page_document(page)}, **HX
    ).content.decode()
    form = _form_fields(html)
    form["v1-effect"] = "Allow"  # the second card switches from Deny to Allow
    review = root_client.post(edit, {**form, "action": "next"}).content.decode()
    assert "Review and save" in review
    saved = root_client.post(edit, {**form, "action": "save", "step": "2"})
    assert saved.status_code == 302
    document = json.loads(policy.versions.get(is_default=True).document)
    assert document["Statement"][1]["Effect"] == "Allow" and document["Statement"][0] == TEAM["Statement"][0]


def page_document(page: str) -> str:
    return _unescape(page.split("<textarea", 1)[1].split(">", 1)[1].split("</textarea>", 1)[0])


def test_bad_visual_input_is_never_a_500(root_client):
    for form in (
        {"visual_op": "service:9:s3", "vis_count": "x"},
        {"visual_op": "remove_arn:0:99", "editor_mode": "visual", "vis_count": "1", "v0-service": "nope"},
        {"visual_op": "add_arn:0:nope:extra", "editor_mode": "visual", "vis_count": "100000"},
        {"visual_op": "mode:visual", "policy_document": "[" * 5000},
    ):
        assert root_client.post("/iam/policies/visual", form, **HX).status_code == 200


# ---- helpers ---------------------------------------------------------------------------------------------------


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


def _form_fields(html: str) -> dict[str, object]:
    """The form fields a browser would submit from a rendered policy-editor (hidden inputs and checked boxes)."""
    import re

    fields: dict[str, list[str]] = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        kind = re.search(r'type="([^"]*)"', tag)
        if not name or (kind and kind.group(1) in ("checkbox", "radio") and " checked" not in tag):
            continue
        fields.setdefault(name.group(1), []).append(_unescape(value.group(1)) if value else "")
    for name, options in re.findall(r'<select[^>]*name="([^"]*)"[^>]*>(.*?)</select>', html, re.DOTALL):
        fields.setdefault(name, []).append(re.search(r"<option selected>([^<]*)</option>", options).group(1))
    return {k: v if len(v) > 1 else v[0] for k, v in fields.items()}
