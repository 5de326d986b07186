"""Issue 15, accessibility measured: axe-core (the npm package, pinned by tests/a11y/package-lock.json and installed
by ``make test``) runs in every console and classroom page a signed-in student and an instructor can reach, and
in the signed-out pages: no serious or critical violation anywhere.

The pages are found by walking the links of each page from a few starting points (so a new page is checked
without editing this test), keeping one page per shape of URL (``/iam/users/<name>?tab=groups``) and dropping
what is no page (downloads, sign-out). Open states are checked too: the search results, the Services menu, the
account menu, the lab panel. The figures go to ``artifacts/accessibility.json`` (docs/accessibility.md records them).

axe is injected with ``page.evaluate`` (the DevTools protocol), which the console's Content-Security-Policy does not
apply to, so the pages are checked with their real CSP and no inline script is added to them.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import Page, expect

from audit import delivery
from classroom import services as classroom
from core.context import CallContext, Principal
from identities import credentials, roles
from identities import services as users
from policies import services as policies
from tests.browser.conftest import ARTIFACTS, htmx_settled, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[1] / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
TEACHER, TEACHER_PASSWORD = "teacher@school.example", "Teach-Passw0rd!"
STUDENT_PASSWORD = "Stud3nt-Passw0rd!"
USER_PASSWORD = "Plain-Passw0rd!"
BLOCKING = ("serious", "critical")
SKIP = re.compile(r"(/signout|/switchrole/back|\.csv$|/download|/handout/clear|/labs/panel/close|/open$|/start$)")
MAX_PAGES = 160  # per person: far above what the walk finds, a guard against a link that makes endless URLs


def ctx_of(account_id: str) -> CallContext:
    return CallContext(Principal.root(account_id), user_agent="pytest", origin="console")


def axe_source() -> str:
    assert AXE.exists(), f"{AXE} is missing: `make test` installs it (npm ci --prefix tests/a11y)"
    return AXE.read_text()


def run_axe(page: Page, source: str) -> list[dict]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(source)
    return page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ['violations']});
            return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5), count: v.nodes.length}));
        }"""
    )


def shape(url: str) -> str:
    """One page per shape: names and ids in the path become ``*`` (a segment with a digit, a colon or an escape,
    or any segment after a resource kind's name), and of the query only ``tab`` counts."""
    parts = urlsplit(url)
    segments = parts.path.split("/")
    shaped = []
    for i, segment in enumerate(segments):
        after_kind = i >= 3 and segments[1] == "iam" and segments[2] in ("users", "groups", "roles", "policies")
        fixed = segment in ("create", "edit", "delete", "tags", "trust", "visual", "students", "events", "board")
        variable = re.search(r"[0-9:%]", segment) or (after_kind and i == 3 and not fixed)
        shaped.append("*" if variable else segment)
    tab = parse_qs(parts.query).get("tab", [""])[0]
    return "/".join(shaped) + (f"?tab={tab}" if tab else "")


def links(page: Page, prefixes: tuple[str, ...]) -> list[str]:
    hrefs = page.evaluate(
        """() => [...document.querySelectorAll('a[href]')]
               .filter(a => !a.hasAttribute('download') && a.origin === location.origin)
               .map(a => a.pathname + a.search)"""
    )
    found = []
    for href in hrefs:
        parts = urlsplit(href)
        if not parts.path.startswith(prefixes) or SKIP.search(parts.path):
            continue
        tab = parse_qs(parts.query).get("tab")
        found.append(parts.path + (f"?{urlencode({'tab': tab[0]})}" if tab else ""))
    return found


class Walk:
    """Visits pages, runs axe in each, and keeps the violations by page."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.pages: dict[str, list[dict]] = {}

    def check(self, page: Page, label: str) -> None:
        htmx_settled(page)
        self.pages[label] = run_axe(page, self.source)

    def crawl(self, page: Page, who: str, seeds: list[str], prefixes: tuple[str, ...]) -> None:
        queue, seen = list(seeds), set()
        visited = 0
        while queue and visited < MAX_PAGES:
            url = queue.pop(0)
            if shape(url) in seen:
                continue
            seen.add(shape(url))
            response = page.goto(url)
            assert response is not None and response.status < 500, f"{url}: {response and response.status}"
            if urlsplit(page.url).path.startswith("/signin"):
                continue  # a page that signs the person out or needs another sign-in is not walked
            visited += 1
            self.check(page, f"{who} {url}")
            queue.extend(link for link in links(page, prefixes) if shape(link) not in seen)

    def blocking(self) -> list[tuple[str, str, str, list[str]]]:
        return [
            (label, v["id"], v["impact"], v["nodes"])
            for label, violations in self.pages.items()
            for v in violations
            if v["impact"] in BLOCKING
        ]

    def figures(self) -> dict:
        by_impact: Counter[str] = Counter()
        by_rule: Counter[str] = Counter()
        for violations in self.pages.values():
            for v in violations:
                by_impact[v["impact"]] += 1
                by_rule[f"{v['impact']} {v['id']}"] += 1
        return {
            "axe_core": json.loads((AXE.parent / "package.json").read_text())["version"],
            "pages_checked": len(self.pages),
            "violations_by_impact": dict(by_impact),
            "violations_by_rule": dict(by_rule.most_common()),
            "blocking": [list(found) for found in self.blocking()],
            "by_page": {
                label: [f"{v['impact']} {v['id']}: {', '.join(v['nodes'])}" for v in violations]
                for label, violations in sorted(self.pages.items())
                if violations
            },
            "pages": sorted(self.pages),
        }


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/signin")
    page.get_by_label("Root user email address").fill(email)
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def student_account(seat) -> None:
    ctx = ctx_of(seat.seat.account_id)
    for name in ("alice", "bob"):
        users.create_user(ctx, user_name=name)
        users.create_login_profile(ctx, user_name=name, password=USER_PASSWORD)
    credentials.create_access_key(ctx, user_name="alice")
    users.create_group(ctx, group_name="Developers")
    users.add_user_to_group(ctx, group_name="Developers", user_name="alice")
    policies.attach_user_policy(ctx, user_name="alice", policy_arn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}
    policies.create_policy(ctx, policy_name="ListBuckets", policy_document=json.dumps(document))
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    roles.create_role(ctx, role_name="EC2Reader", assume_role_policy_document=json.dumps(trust))


def test_every_console_and_classroom_page_has_no_serious_or_critical_violation(new_page):
    source = axe_source()
    instructor = classroom.sign_up_instructor(email=TEACHER, password=TEACHER_PASSWORD, name="Ms Teacher")
    klass, issued = classroom.create_class(ctx_of(instructor.id), title="IAM 101", students=2, alias_prefix="a11y")
    seat = issued[0]
    student_account(seat)
    delivery.deliver_pending()
    walk = Walk(source)

    # Signed out: the sign-in steps, the IAM user's sign-in URL, joining a class, signing up as an instructor.
    anonymous = new_page()
    anonymous.set_viewport_size({"width": 1280, "height": 720})
    for url in ("/signin", f"/signin/{seat.seat.account_id}", "/classroom/join", "/classroom/signup"):
        anonymous.goto(url)
        walk.check(anonymous, f"signed out {url}")
    anonymous.goto("/signin")
    anonymous.get_by_label("Root user email address").fill(TEACHER)
    anonymous.get_by_role("button", name="Next").click()
    expect(anonymous.locator("main h1")).to_have_text("Root user sign in")
    walk.check(anonymous, "signed out /signin (password step)")

    # The student: the forced password change, then every IAM and lab page of the student's account.
    student = new_page()
    student.set_viewport_size({"width": 1280, "height": 720})
    sign_in(student, seat.seat.email, seat.password)
    walk.check(student, f"student {urlsplit(student.url).path} (forced password change)")
    student.fill("input[name=old_password]", seat.password)
    student.fill("input[name=new_password]", STUDENT_PASSWORD)
    student.fill("input[name=confirm_password]", STUDENT_PASSWORD)
    student.locator("main button[type=submit]").click()
    student.wait_for_url(re.compile(r".*/$"))
    seeds = ["/", "/iam/users", "/iam/users/create", "/iam/groups", "/iam/roles", "/iam/policies", "/labs/"]
    seeds += ["/iam/policies/create", "/iam/policy_simulator", "/iam/security_credentials", "/switchrole"]
    walk.crawl(student, "student", seeds, ("/iam", "/labs", "/switchrole", "/change_password"))
    # Open states: the lab panel, the search results, the Services and account menus.
    student.goto("/labs/first-user")
    student.get_by_test_id("open-panel").click()
    expect(student.locator("#lab-panel")).to_be_visible()
    walk.check(student, "student /iam/users with the lab panel open")
    student.locator("#topbar-search").click()
    student.keyboard.type("ali", delay=120)
    expect(student.locator("#search-results")).to_be_visible()
    student.keyboard.press("ArrowDown")
    walk.check(student, "student search results open")
    student.keyboard.press("Escape")
    student.get_by_test_id("services-menu").locator("summary").click()
    walk.check(student, "student Services menu open")
    student.get_by_test_id("account-menu").click()
    walk.check(student, "student account menu open")
    shot(student, "a11y-student-account-menu")

    # The instructor: the classes and everything under them, and the instructor's own dashboard.
    teacher = new_page()
    teacher.set_viewport_size({"width": 1920, "height": 1080})
    sign_in(teacher, TEACHER, TEACHER_PASSWORD)
    seeds = ["/classroom/", "/classroom/create", "/classroom/admin-user", f"/classroom/{klass.pk}"]
    seeds += [f"/classroom/{klass.pk}/board", f"/classroom/{klass.pk}/students/{seat.seat.account_id}"]
    walk.crawl(teacher, "instructor", seeds, ("/classroom",))
    teacher.goto("/")
    walk.check(teacher, "instructor /")

    figures = walk.figures()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS.parent / "accessibility.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps({k: v for k, v in figures.items() if k != "pages"}, indent=2))
    assert figures["pages_checked"] >= 60, figures["pages"]  # the walk really reached the pages
    assert walk.blocking() == []
