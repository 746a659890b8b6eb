"""Webhooks and events pages in Chromium, with a real receiver on loopback and the deliverer."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from core.extensions import db, webhooks
from tenants.delivery import Deliverer
from tenants.outbound import Sender
from tenants.secretbox import SecretBox
from tests.dashboard.axe import serious_violations
from tests.events.receiver import Receiver

pytestmark = pytest.mark.browser


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(status=503, answer=b"maintenance window")
    yield server
    server.stop()


@pytest.fixture
def deliverer(app) -> Iterator[Deliverer]:
    worker = Deliverer(db.engine, SecretBox(app.config["SECRET_KEY"]), Sender(True), concurrency=2)
    yield worker
    worker.close()


def test_endpoint_secret_once_test_event_deliveries_and_retry(
    dashboard, org_id, receiver, deliverer
):
    page = dashboard.page
    dashboard.sign_in(org_id)
    dashboard.open("/dashboard/webhooks")
    expect(page.get_by_text("No endpoints yet")).to_be_visible()
    page.get_by_role("button", name="Add endpoint").click()
    dialog = page.get_by_role("dialog", name="Add a webhook endpoint")
    dialog.get_by_label("Endpoint URL").fill(receiver.url)
    dialog.get_by_label("All events").uncheck()
    dialog.get_by_label("license.updated", exact=True).check()
    dialog.get_by_label("key.revoked", exact=True).check()
    dialog.get_by_role("button", name="Add endpoint").click()

    shown = page.locator("dialog.dialog-secret")
    secret = shown.get_by_test_id("new-key").input_value()
    assert secret.startswith("whsec_")
    shown.get_by_role("button", name="Done, I have stored it").click()
    expect(page.locator("dialog")).to_have_count(0)
    assert secret not in page.content()
    row = page.locator("#webhooks-table tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator(".chip")).to_have_text(["key.revoked", "license.updated"])

    page.get_by_role("button", name=f"Actions for {receiver.url}").click()
    page.get_by_role("menuitem", name="Send test event").click()
    deliveries = page.locator("#deliveries-table tbody tr")
    expect(deliveries).to_have_count(1)
    assert deliverer.run_once() == 1 and receiver.wait_for(1)
    page.get_by_role("button", name="Refresh").click()
    expect(deliveries.locator("td[data-label=Answer]")).to_contain_text("503")
    expect(deliveries.locator("td[data-label=Answer]")).to_contain_text("maintenance window")
    expect(deliveries.locator("td[data-label=Duration]")).to_have_text(re.compile(r"^\d+ ms$"))
    expect(deliveries.locator("td[data-label=Attempts]")).to_have_text("1")

    receiver.status = 200
    deliveries.get_by_role("button", name=re.compile("^Retry delivery of evt_")).click()
    expect(page.locator(".toast", has_text="queued again")).to_be_visible()
    assert deliverer.run_once() == 1 and receiver.wait_for(2)
    page.get_by_role("button", name="Refresh").click()
    expect(deliveries.locator(".badge")).to_have_text("succeeded")
    expect(deliveries.get_by_role("button", name=re.compile("^Retry"))).to_have_count(0)

    dashboard.open("/dashboard/events")
    table = page.locator("#events-table")
    expect(table).to_contain_text("webhook.test")
    page.get_by_label("Type").select_option("key.created")
    expect(page.get_by_text("No key.created events so far.")).to_be_visible()


def test_events_page_names_the_key(dashboard, org_id):
    page = dashboard.page
    dashboard.sign_in(org_id)
    secret = dashboard.create_key('<b>bold</b> "key"')
    dashboard.open("/dashboard/events")
    row = page.locator("#events-table tr[data-event-type='key.created']")
    expect(row).to_have_count(1)
    expect(row.locator("summary")).to_have_text(f'<b>bold</b> "key" …{secret[-4:]}')
    assert page.locator("#events-table b").count() == 0


def _add_endpoint(page, url: str) -> None:
    page.get_by_role("button", name="Add endpoint").first.click()
    dialog = page.get_by_role("dialog", name="Add a webhook endpoint")
    dialog.get_by_label("Endpoint URL").fill(url)
    dialog.get_by_role("button", name="Add endpoint").click()
    page.locator("dialog.dialog-secret").get_by_role(
        "button", name="Done, I have stored it"
    ).click()
    expect(page.locator("dialog")).to_have_count(0)


@pytest.mark.parametrize("width,height", [(1280, 800), (360, 740)])
def test_webhook_actions_keep_the_focus_and_failures_are_toasts(
    dashboard, org_id, receiver, deliverer, width, height
):
    """Every webhook action leaves the focus on a control (never <body>); a failure is a toast
    naming the endpoint with the request id, and the table stays."""
    page = dashboard.page
    page.set_viewport_size({"width": width, "height": height})
    dashboard.sign_in(org_id)
    dashboard.open("/dashboard/webhooks")
    _add_endpoint(page, receiver.url)
    other = f"{receiver.url}other"
    _add_endpoint(page, other)
    rows = page.locator("#webhooks-table tbody tr")
    expect(rows).to_have_count(2)
    menu = page.get_by_role("button", name=f"Actions for {receiver.url}", exact=True)
    # Closing the shown-once secret gives the focus back to the new endpoint's menu button.
    expect(page.get_by_role("button", name=f"Actions for {other}")).to_be_focused()

    menu.click()
    page.get_by_role("menuitem", name="Send test event").click()
    expect(page.locator("#deliveries-table tbody tr")).to_have_count(1)
    assert deliverer.run_once() == 1 and receiver.wait_for(1)
    menu.click()
    page.get_by_role("menuitem", name="Deliveries").click()
    expect(page.locator("#deliveries-title")).to_be_focused()
    page.get_by_role("button", name="Refresh").click()
    expect(page.get_by_role("button", name="Refresh")).to_be_focused()
    retry = page.get_by_role("button", name=re.compile("^Retry delivery of evt_"))
    retry.click()
    expect(page.locator(".toast", has_text="queued again")).to_be_visible()
    expect(retry).to_be_focused()  # still pending: its Retry button is back under the focus

    # The server unreachable: a toast holding the focus; the deliveries stay.
    page.route("**/retry", lambda route: route.abort())
    retry.click()
    failed = page.locator(".toast-error", has_text="was not retried")
    expect(failed).to_contain_text("could not be reached")
    expect(failed).to_be_focused()
    expect(page.locator("#deliveries-table tbody tr")).to_have_count(1)
    failed.get_by_role("button", name="Dismiss").click()
    page.unroute("**/retry")

    # Deleted in another tab: disabling it here is a 404 toast with the request id.
    endpoint_id = rows.filter(has_text=other).get_attribute("data-endpoint-id")
    status = page.evaluate(
        """async (path) => {
          const { token } = JSON.parse(sessionStorage.getItem("lw.dev.token"));
          return (await fetch(path, { method: "DELETE",
            headers: { Authorization: `Bearer ${token}` } })).status;
        }""",
        f"/console/webhooks/{endpoint_id}",
    )
    assert status == 200
    page.get_by_role("button", name=f"Actions for {other}").click()
    page.get_by_role("menuitem", name="Disable").click()
    refused = page.locator(".toast-error", has_text=f"{other} was not changed")
    expect(refused.locator(".request-id")).to_have_text(re.compile(r"^req_[0-9a-f]+$"))
    expect(refused).to_be_focused()
    expect(rows).to_have_count(1)  # the table stays, refreshed
    refused.get_by_role("button", name="Dismiss").click()

    # Deleting the last row: its control is gone, the toast takes the focus.
    menu.click()
    page.get_by_role("menuitem", name="Delete…").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete endpoint").click()
    done = page.locator(".toast", has_text=f"{receiver.url} deleted.")
    expect(done).to_be_focused()
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the webhooks page scrolls sideways at {width} px ({scroll} px)"


@pytest.mark.parametrize("width,height", [(1280, 800), (360, 740)])
def test_an_endpoint_is_edited_and_each_attempt_is_listed(
    dashboard, org_id, receiver, deliverer, store, width, height
):
    page = dashboard.page
    page.set_viewport_size({"width": width, "height": height})
    dashboard.sign_in(org_id)
    dashboard.open("/dashboard/webhooks")
    _add_endpoint(page, receiver.url)
    menu = page.get_by_role("button", name=f"Actions for {receiver.url}")
    menu.click()
    page.get_by_role("menuitem", name="Edit…").click()
    dialog = page.get_by_role("dialog", name="Edit the webhook endpoint")
    expect(dialog.get_by_label("Endpoint URL")).to_have_value(receiver.url)
    expect(dialog.get_by_label("All events")).to_be_checked()
    problems = serious_violations(page, "webhook-edit")
    dialog.get_by_label("Description (optional)").fill("billing listener")
    dialog.get_by_label("All events").uncheck()
    dialog.get_by_label("key.leaked", exact=True).check()
    dialog.get_by_role("button", name="Save endpoint").click()
    expect(page.locator("dialog")).to_have_count(0)
    row = page.locator("#webhooks-table tbody tr")
    expect(row.locator(".chip")).to_have_text(["key.leaked"])
    expect(row).to_contain_text("billing listener")
    expect(menu).to_be_focused()
    endpoint_id = row.get_attribute("data-endpoint-id")
    tenant = store.tenant_for_organization("urn:loopwave:dev-login", org_id)
    endpoint = next(e for e in _endpoints(store, tenant.id) if e.id == endpoint_id)
    assert list(endpoint.event_types) == ["key.leaked"]
    assert endpoint.description == "billing listener"

    # A delivery tried twice lists both attempts: when, the answer, the duration.
    menu.click()
    page.get_by_role("menuitem", name="Send test event").click()
    expect(page.locator("#deliveries-table tbody tr")).to_have_count(1)
    assert deliverer.run_once() == 1 and receiver.wait_for(1)
    receiver.status = 200
    page.get_by_role("button", name="Refresh").click()
    page.get_by_role("button", name=re.compile("^Retry delivery of evt_")).click()
    expect(page.locator(".toast", has_text="queued again")).to_be_visible()
    assert deliverer.run_once() == 1 and receiver.wait_for(2)
    page.get_by_role("button", name="Refresh").click()
    delivery = page.locator("#deliveries-table tbody tr")
    expect(delivery.locator(".badge")).to_have_text("succeeded")
    delivery.locator("td[data-label=Attempts] summary").click()
    attempts = delivery.locator(".attempts li")
    expect(attempts).to_have_count(2)
    expect(attempts.nth(0)).to_contain_text("503")
    expect(attempts.nth(0)).to_contain_text("maintenance window")
    expect(attempts.nth(1)).to_contain_text("200")
    expect(attempts.nth(1)).to_contain_text(re.compile(r"\d+ ms"))
    problems += serious_violations(page, "webhook-attempts")
    assert not problems, "\n".join(problems)
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the webhooks page scrolls sideways at {width} px ({scroll} px)"


def _endpoints(store, tenant_id):
    db.session.expire_all()
    return webhooks.get().list(tenant_id)


@pytest.mark.parametrize("width,height", [(1280, 800), (360, 740)])
def test_a_webhooks_only_manager_edits_without_touching_key_events(
    dashboard, org_id, receiver, store, width, height
):
    """Someone who may not read keys sees no key event types; saving a description leaves the
    endpoint's subscription (key events included, set by an admin) as it was."""
    page = dashboard.page
    page.set_viewport_size({"width": width, "height": height})
    dashboard.sign_in(org_id)
    dashboard.open("/dashboard/webhooks")
    _add_endpoint(page, receiver.url)  # an admin: all events, key events included
    dashboard.sign_out()
    dashboard.sign_in(
        org_id, role="member", user_id="user_carol", permissions=("org:webhooks:manage",)
    )
    page.get_by_role("button", name=f"Actions for {receiver.url}").click()
    page.get_by_role("menuitem", name="Edit…").click()
    dialog = page.get_by_role("dialog", name="Edit the webhook endpoint")
    expect(dialog.locator("input[value^='key.']")).to_have_count(0)
    dialog.get_by_label("Description (optional)").fill("ops listener")
    dialog.get_by_role("button", name="Save endpoint").click()
    expect(page.locator("#webhooks-table tbody tr")).to_contain_text("ops listener")
    tenant = store.tenant_for_organization("urn:loopwave:dev-login", org_id)
    assert [list(endpoint.event_types) for endpoint in _endpoints(store, tenant.id)] == [["*"]]
