"""The committed managed-policy data file: what it holds, and that the refresh command rebuilds it exactly."""

from __future__ import annotations

import json
from importlib.metadata import version as package_version
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from policies.catalog import managed, sources


def test_the_data_file_records_its_source_version_and_date():
    info = managed.data_info()
    assert info.source == "moto/iam/aws_managed_policies.py"
    assert info.source_version == package_version("moto")  # the test extra pins moto to the release it came from
    assert info.date == max(p.update_date for p in managed.managed_policies())[:10]
    assert info.count == len(managed.managed_policies()) > 1500


def test_the_loader_gives_the_same_policies_as_moto_s_data():
    from_moto = sources.read_source(None).policies  # moto's module, sliced as the catalog used to do at runtime
    loaded = {p.name: p for p in managed.managed_policies()}
    assert set(loaded) == set(from_moto)
    for name, rec in from_moto.items():
        policy = loaded[name]
        assert (policy.path, policy.default_version_id, policy.create_date, policy.update_date) == (
            rec["Path"],
            rec["DefaultVersionId"],
            rec["CreateDate"],
            rec["UpdateDate"],
        )
        assert policy.document_dict == rec["Document"]


def test_the_command_regenerates_an_identical_file_from_the_same_source(tmp_path: Path):
    out = tmp_path / "policies.json"
    stdout = StringIO()
    call_command("refresh_managed_policies", "--output", str(out), stdout=stdout)
    assert out.read_bytes() == managed.DATA_FILE.read_bytes()
    assert "1595 AWS managed policies from moto/iam/aws_managed_policies.py" in stdout.getvalue()
    assert stdout.getvalue().rstrip().endswith("written.")

    stdout = StringIO()
    call_command("refresh_managed_policies", "--output", str(out), stdout=stdout)
    assert stdout.getvalue().rstrip().endswith("already up to date.")

    # A path argument: the data file itself gives the same bytes (it keeps its recorded source); moto's module
    # given by path gives the same policies, with the file name as the source and no version.
    again = tmp_path / "again.json"
    call_command("refresh_managed_policies", str(managed.DATA_FILE), "--output", str(again), stdout=StringIO())
    assert again.read_bytes() == out.read_bytes()
    call_command("refresh_managed_policies", str(sources.moto_data_path()), "--output", str(again), stdout=StringIO())
    by_path = json.loads(again.read_text())
    assert (by_path["source"], by_path["source_version"]) == ("aws_managed_policies.py", "")
    assert by_path["policies"] == json.loads(out.read_text())["policies"]


def test_a_newer_source_from_get_account_authorization_details(tmp_path: Path):
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    details = {
        "Policies": [
            {
                "PolicyName": "NewPolicy",
                "Arn": "arn:aws:iam::aws:policy/service-role/NewPolicy",
                "Path": "/service-role/",
                "DefaultVersionId": "v2",
                "CreateDate": "2027-01-02T03:04:05+00:00",
                "UpdateDate": "2027-02-03T04:05:06+00:00",
                "PolicyVersionList": [
                    {
                        "Document": {"Version": "2012-10-17", "Statement": []},
                        "VersionId": "v1",
                        "IsDefaultVersion": False,
                    },
                    {"Document": document, "VersionId": "v2", "IsDefaultVersion": True},
                ],
            },
            {  # a customer managed policy in the same output is not catalog data
                "PolicyName": "Mine",
                "Arn": "arn:aws:iam::123456789012:policy/Mine",
                "Path": "/",
                "PolicyVersionList": [{"Document": document, "VersionId": "v1", "IsDefaultVersion": True}],
            },
        ]
    }
    source = tmp_path / "details.json"
    source.write_text(json.dumps(details))
    out = tmp_path / "policies.json"
    call_command("refresh_managed_policies", str(source), "--output", str(out), stdout=StringIO())
    written = json.loads(out.read_text())
    assert {k: written[k] for k in ("format", "source", "source_version", "date", "count")} == {
        "format": 1,
        "source": "details.json",
        "source_version": "",
        "date": "2027-02-03",
        "count": 1,
    }
    assert written["policies"] == {
        "NewPolicy": {
            "Path": "/service-role/",
            "DefaultVersionId": "v2",
            "CreateDate": "2027-01-02T03:04:05+00:00",
            "UpdateDate": "2027-02-03T04:05:06+00:00",
            "Document": document,
        }
    }


def test_an_unreadable_or_foreign_source_is_a_command_error(tmp_path: Path):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("refresh_managed_policies", str(tmp_path / "missing.json"), "--output", str(tmp_path / "o"))
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    with pytest.raises(CommandError, match="expected a JSON object"):
        call_command("refresh_managed_policies", str(bad), "--output", str(tmp_path / "o"))
    assert not (tmp_path / "o").exists()
