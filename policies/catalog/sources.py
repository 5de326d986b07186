"""Build the committed AWS managed policy data file (``data/aws_managed_policies.json``) from a source.

Sources, newest format first:

- the output of ``aws iam get-account-authorization-details --filter AWSManagedPolicy`` (a JSON file with
  ``Policies``, each with its ``PolicyVersionList``): what a real AWS account says today;
- moto's ``moto/iam/aws_managed_policies.py`` (a Python file holding one JSON string), or that JSON on its own;
- this project's own data file (so a file can be re-rendered after a format change);
- nothing: the installed ``moto`` package (a test dependency), found without importing it.

A path or an ``http(s)://`` URL is accepted. The rendering is deterministic (records sorted by name, one policy per
line, no generation timestamp), so the same source always gives a byte-identical file and a refresh shows in
``git diff`` as one line per changed policy. The file records the source, its version and the date of the newest
policy update in it. No Django here: :mod:`policies.catalog.managed` reads the file at start-up.
"""

from __future__ import annotations

import ast
import json
import urllib.parse
import urllib.request
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from importlib.util import find_spec
from pathlib import Path

from policies.catalog.managed import DATA_FILE

#: The fields kept per policy (moto's ``PermissionsBoundaryUsageCount`` is account state, not catalog data).
FIELDS = ("Path", "DefaultVersionId", "CreateDate", "UpdateDate", "Document")

FORMAT_VERSION = 1


class SourceError(ValueError):
    """The source could not be read or is not one of the known formats."""


@dataclass(frozen=True)
class ManagedPolicyData:
    source: str  # where the records came from: "moto", a file name or a URL
    source_version: str  # moto's release, or "" when the source does not say
    policies: dict[str, dict[str, object]]  # name -> the FIELDS

    @property
    def date(self) -> str:
        """The newest policy update in the source (YYYY-MM-DD): how current the data is."""
        dates = [str(rec.get("UpdateDate") or "") for rec in self.policies.values()]
        return max(dates, default="")[:10]


# --------------------------------------------------------------------------------------------------------------
# Reading a source


def moto_data_path() -> Path:
    """moto's data module, located without importing moto (importing ``moto.iam`` costs about a second)."""
    spec = find_spec("moto")
    if spec is None or not spec.submodule_search_locations:
        raise SourceError("the moto package is not installed; give a file or URL (see --help)")
    return Path(next(iter(spec.submodule_search_locations))) / "iam" / "aws_managed_policies.py"


def _moto_json_text(source: str) -> str:
    """The JSON text of ``aws_managed_policies_data`` in moto's Python module, read without executing it."""
    start, end = source.find('"""'), source.rfind('"""')
    if start == -1 or end <= start:
        raise SourceError("no triple-quoted JSON string found in the Python source")
    body = source[start + 3 : end]
    # Read the literal as Python would: the raw text equals the value unless it holds escapes.
    return body if "\\" not in body else ast.literal_eval(source[start : end + 3])


def _normalized(rec: dict[str, object]) -> dict[str, object]:
    doc = rec.get("Document")
    if isinstance(doc, str):
        # The raw IAM API URL-encodes documents; the CLI and moto give JSON text or objects.
        doc = json.loads(urllib.parse.unquote(doc) if doc.lstrip().startswith("%7B") else doc)
    if not isinstance(doc, dict):
        raise SourceError("a policy record has no JSON document")
    out = {k: rec[k] for k in FIELDS if k in rec and k != "Document"}
    out["Document"] = doc
    return {k: out[k] for k in FIELDS if k in out}


def _from_authorization_details(data: dict[str, object]) -> dict[str, dict[str, object]]:
    policies: dict[str, dict[str, object]] = {}
    for item in data.get("Policies") or []:
        if not isinstance(item, dict) or not str(item.get("Arn", "")).startswith("arn:aws:iam::aws:policy"):
            continue  # customer managed policies are not catalog data
        default = next(
            (v for v in item.get("PolicyVersionList") or [] if isinstance(v, dict) and v.get("IsDefaultVersion")),
            None,
        )
        if default is None:
            raise SourceError(f"policy {item.get('PolicyName')!r} has no default version in PolicyVersionList")
        rec = {k: item[k] for k in ("Path", "DefaultVersionId", "CreateDate", "UpdateDate") if k in item}
        rec["Document"] = default.get("Document")
        policies[str(item["PolicyName"])] = _normalized(rec)
    return policies


def parse(text: str, source: str, source_version: str = "") -> ManagedPolicyData:
    """Read any of the known formats from ``text``."""
    stripped = text.lstrip()
    if not stripped.startswith(("{", "[")):
        text = _moto_json_text(text)  # a Python module such as moto's
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise SourceError("expected a JSON object")
    if "Policies" in data and isinstance(data["Policies"], list):
        policies = _from_authorization_details(data)
    elif "format" in data and isinstance(data.get("policies"), dict):  # our own file
        policies = {str(k): _normalized(v) for k, v in data["policies"].items()}
        source, source_version = str(data.get("source", source)), str(data.get("source_version", source_version))
    else:  # moto's shape: name -> record
        policies = {str(k): _normalized(v) for k, v in data.items() if isinstance(v, dict)}
    if not policies:
        raise SourceError("the source holds no AWS managed policies")
    return ManagedPolicyData(source=source, source_version=source_version, policies=policies)


def read_source(location: str | None = None) -> ManagedPolicyData:
    """Read the installed moto's data (``location`` None), a local file or an ``http(s)://`` URL."""
    if location is None:
        try:
            moto_version = package_version("moto")
        except PackageNotFoundError:
            moto_version = ""
        path = moto_data_path()
        return parse(path.read_text(encoding="utf-8"), "moto/iam/aws_managed_policies.py", moto_version)
    if location.startswith(("http://", "https://")):
        with urllib.request.urlopen(location, timeout=60) as response:  # noqa: S310 - the scheme is checked above
            return parse(response.read().decode("utf-8"), location)
    path = Path(location)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceError(f"cannot read {location}: {exc.strerror}") from None
    return parse(text, path.name)


# --------------------------------------------------------------------------------------------------------------
# Writing the data file


def render(data: ManagedPolicyData) -> str:
    """The data file's text: a header, then one policy per line sorted by name (diff-friendly, deterministic)."""
    header = {
        "format": FORMAT_VERSION,
        "source": data.source,
        "source_version": data.source_version,
        "date": data.date,
        "count": len(data.policies),
    }
    lines = [json.dumps(header, ensure_ascii=False)[:-1] + ', "policies": {']
    names = sorted(data.policies)
    for i, name in enumerate(names):
        comma = "," if i < len(names) - 1 else ""
        record = json.dumps(data.policies[name], ensure_ascii=False, separators=(",", ":"))
        lines.append(f"{json.dumps(name, ensure_ascii=False)}:{record}{comma}")
    lines.append("}}")
    return "\n".join(lines) + "\n"


def write(data: ManagedPolicyData, path: Path = DATA_FILE) -> bool:
    """Write the file; False when it already held exactly this text."""
    text = render(data)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)  # atomic: a running server never reads half a file
    return True
