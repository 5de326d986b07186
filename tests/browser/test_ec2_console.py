"""The EC2 console in the browser: launch an instance with an instance profile and a tag, run a command as the
instance in its panel (its role session, named after the instance), and stop it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from core.context import CallContext, Principal
from ec2.models import Instance
from tests.browser.conftest import shot
from tests.conftest import ROOT_PASSWORD
from tests.ec2.conftest import profile_with_role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = [(1280, 720), (1920, 1080)]  # the laptop and the projector


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_launch_run_as_the_instance_and_stop(page, account, managed_policies, size):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    profile_with_role(CallContext(Principal.root(account.id)))
    page.goto("/signin")
    page.get_by_label("Root user email address").fill(account.root_email)
    page.get_by_role("button", name="Next").click()  # two steps, as AWS: who, then the password
    page.get_by_label("Password").fill(ROOT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="EC2 instances").click()
    expect(page.get_by_role("heading", name="Instances (0)")).to_be_visible()
    page.get_by_role("link", name="Launch instance").first.click()
    page.get_by_label("Name", exact=True).press_sequentially("web", delay=20)
    page.get_by_label("Tag key 1").press_sequentially("team", delay=20)
    page.get_by_label("Tag value 1").press_sequentially("blue", delay=20)
    page.get_by_label("Instance type").select_option("t3.micro")
    page.get_by_label("IAM instance profile - optional").press_sequentially("app", delay=20)
    page.get_by_role("button", name="Launch instance").click()

    instance = Instance.objects.get()
    expect(page.get_by_role("heading", name=re.compile(f"Instance summary for {instance.instance_id}"))).to_be_visible()
    expect(page.get_by_test_id("instance-state")).to_have_text("Running")
    expect(page.get_by_test_id("instance-role")).to_have_text("app")
    expect(page.get_by_role("cell", name="blue")).to_be_visible()

    command = page.get_by_label("Command")
    expect(command).to_have_value("aws sts get-caller-identity")
    page.get_by_role("button", name="Run", exact=True).click()
    result = page.get_by_test_id("run-result")
    expect(result).to_contain_text(f"assumed-role/app/{instance.instance_id}")
    command.fill("")
    command.press_sequentially("aws iam list-users", delay=20)
    page.get_by_role("button", name="Run", exact=True).click()
    expect(result).to_contain_text("AccessDenied")  # the role has no policy: denied, and explained
    expect(page.get_by_test_id("why-panel")).to_contain_text("iam:ListUsers")
    # AWS's one-line error wraps inside the panel: the page does not grow sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
    shot(page, f"ec2-run-as-instance-{size[0]}x{size[1]}")

    page.get_by_role("button", name="Stop instance").click()
    expect(page.get_by_test_id("instance-state")).to_have_text("Stopped")
    page.get_by_role("link", name="Instances", exact=True).click()
    expect(page.get_by_test_id(f"state-{instance.instance_id}")).to_have_text("Stopped")
