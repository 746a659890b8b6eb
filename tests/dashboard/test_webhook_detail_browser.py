"""An endpoint's page (/dashboard/webhooks/<id>): reached from the list, it shows the URL,
description, event types and state, rotates the secret (shown once), sends a test event, lists
the deliveries with status, duration and answer, retries one, pages with "Load more", edits,
disables and deletes — at 1280 and 360 px, with no serious axe violation and no sideways
scroll. A real receiver on loopback answers, and the deliverer delivers."""

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
from tests.dashboard.shots import WIDTHS, shoot, sideways_scroll, use_width
from tests.events.receiver import Receiver

pytestmark = pytest.mark.browser
DEV_ISSUER = "urn:loopwave:dev-login"
# The page's own requests, with the session token the page holds.
FETCH = """async ([method, path]) => {
  const { token } = JSON.parse(sessionStorage.getItem("lw.dev.token"));
  const answer = await fetch(path, { method, headers: { Authorization: `Bearer ${token}` } });
  return answer.status;
}"""


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


def add_endpoint(page, url: str, description: str = "") -> str:
    """Adds an endpoint on the list page; returns its signing secret."""
    page.get_by_role("button", name="Add endpoint").first.click()
    dialog = page.get_by_role("dialog", name="Add a webhook endpoint")
    dialog.get_by_label("Endpoint URL").fill(url)
    dialog.get_by_label("Description (optional)").fill(description)
    dialog.get_by_role("button", name="Add endpoint").click()
    shown = page.locator("dialog.dialog-secret")
    secret = shown.get_by_test_id("new-key").input_value()
    shown.get_by_role("button", name="Done, I have stored it").click()
    expect(page.locator("dialog")).to_have_count(0)
    return secret


@pytest.mark.parametrize("width", list(WIDTHS))
def test_an_endpoints_page_does_everything_an_endpoint_needs(
    dashboard, org_id, receiver, deliverer, store, width
):
    page = dashboard.page
    use_width(page, width)
    dashboard.sign_in(org_id)
    dashboard.open("/dashboard/webhooks")
    first_secret = add_endpoint(page, receiver.url, "Billing <b>service</b>")
    page.locator("#webhooks-table").get_by_role("link", name=receiver.url).click()
    expect(page).to_have_url(re.compile(r"/dashboard/webhooks/whe_[0-9A-Z]{26}$"))
    endpoint_id = page.url.rsplit("/", 1)[-1]
    expect(page.get_by_role("heading", level=1)).to_have_text(receiver.url)
    expect(page.locator("#nav [aria-current=page]")).to_have_text("Webhooks")
    details = page.locator("#endpoint-details")
    expect(details.locator(".detail-item", has_text="Events")).to_contain_text("All events")
    expect(details.locator(".detail-item", has_text="Description")).to_contain_text(
        "Billing <b>service</b>"
    )
    assert page.evaluate("() => !document.querySelector('main b')"), "a description became markup"
    expect(page.locator(".webhook-head .badge")).to_have_text("enabled")
    expect(page.get_by_text("No deliveries yet")).to_be_visible()
    problems = serious_violations(page, f"webhook-endpoint-empty-{width}")

    # A test event: queued, delivered to a failing receiver, answer and duration shown.
    page.get_by_role("button", name="Send test event").click()
    expect(page.locator(".toast", has_text="webhook.test event is on its way")).to_be_visible()
    expect(page.get_by_role("button", name="Send test event")).to_be_focused()
    rows = page.locator("#deliveries-table tbody tr")
    expect(rows).to_have_count(1)
    assert deliverer.run_once() == 1 and receiver.wait_for(1)
    page.get_by_role("button", name="Refresh").click()
    expect(page.get_by_role("button", name="Refresh")).to_be_focused()
    expect(rows.locator("td[data-label=Answer]")).to_contain_text("503 · maintenance window")
    expect(rows.locator("td[data-label=Duration]")).to_have_text(re.compile(r"^\d+ ms$"))
    expect(rows.locator(".badge")).to_have_text("pending")

    # Retry: the same delivery succeeds; the focus stays on a control.
    receiver.status = 200
    rows.get_by_role("button", name=re.compile("^Retry delivery of evt_")).click()
    expect(page.locator(".toast", has_text="queued again")).to_be_visible()
    assert deliverer.run_once() == 1 and receiver.wait_for(2)
    page.get_by_role("button", name="Refresh").click()
    expect(rows.locator(".badge")).to_have_text("succeeded")
    problems += serious_violations(page, f"webhook-endpoint-{width}")
    shoot(page, "webhook-endpoint", width)
    rows.locator("td[data-label=Attempts] summary").click()
    expect(rows.locator(".attempts li")).to_have_count(2)
    problems += serious_violations(page, f"webhook-endpoint-attempts-{width}")

    # The secret: rotated after a confirmation, shown once, then only "the previous one signs
    # too until ...".
    page.get_by_role("button", name="Rotate secret…").click()
    page.get_by_role("dialog").get_by_role("button", name="Rotate secret").click()
    shown = page.locator("dialog.dialog-secret")
    new_secret = shown.get_by_test_id("new-key").input_value()
    assert new_secret.startswith("whsec_") and new_secret != first_secret
    problems += serious_violations(page, f"webhook-endpoint-secret-{width}")
    shown.get_by_role("button", name="Done, I have stored it").click()
    expect(page.locator("#previous-secret")).to_contain_text("The previous secret signs too")
    expect(page.get_by_role("button", name="Rotate secret…")).to_be_focused()
    assert new_secret not in page.content() and first_secret not in page.content()

    # Edit: the description and the event types; the page shows them, the store has them.
    page.get_by_role("button", name="Edit", exact=True).click()
    dialog = page.get_by_role("dialog", name="Edit the webhook endpoint")
    dialog.get_by_label("Description (optional)").fill("ledger listener")
    dialog.get_by_label("All events").uncheck()
    dialog.get_by_label("key.leaked", exact=True).check()
    dialog.get_by_role("button", name="Save endpoint").click()
    expect(details.locator(".chip")).to_have_text(["key.leaked"])
    expect(page.locator(".webhook-description")).to_have_text("ledger listener")
    expect(page.get_by_role("button", name="Edit", exact=True)).to_be_focused()
    tenant = store.tenant_for_organization(DEV_ISSUER, org_id)
    db.session.expire_all()
    stored = webhooks.get().get(tenant.id, endpoint_id)
    assert (list(stored.event_types), stored.description) == (["key.leaked"], "ledger listener")

    # Disable from the "⋯" menu: the state says so, the menu button keeps the focus.
    more = page.get_by_role("button", name=f"More actions for {receiver.url}")
    more.click()
    page.get_by_role("menuitem", name="Disable").click()
    expect(page.locator(".webhook-head .badge")).to_have_text("disabled")
    expect(page.get_by_role("button", name=f"More actions for {receiver.url}")).to_be_focused()
    expect(page.locator(".endpoint-off")).to_contain_text("This endpoint is disabled.")
    assert sideways_scroll(page) <= 0, f"the endpoint's page scrolls sideways at {width}"
    problems += serious_violations(page, f"webhook-endpoint-disabled-{width}")
    db.session.expire_all()
    assert webhooks.get().get(tenant.id, endpoint_id).enabled is False
    page.get_by_role("button", name="Enable endpoint").click()
    expect(page.locator(".webhook-head .badge")).to_have_text("enabled")
    expect(page.locator(".endpoint-off")).to_have_count(0)
    db.session.expire_all()
    assert webhooks.get().get(tenant.id, endpoint_id).enabled is True

    # Delete: confirmed, then a way back, which has the focus; the endpoint is gone.
    page.get_by_role("button", name=f"More actions for {receiver.url}").click()
    page.get_by_role("menuitem", name="Delete…").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete endpoint").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Endpoint deleted")
    expect(page.get_by_role("link", name="Back to all endpoints")).to_be_focused()
    assert page.evaluate(FETCH, ["GET", f"/console/webhooks/{endpoint_id}"]) == 404
    dashboard.open(f"/dashboard/webhooks/{endpoint_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Endpoint not found")
    problems += serious_violations(page, f"webhook-endpoint-not-found-{width}")
    assert not problems, "\n".join(problems)


def test_deliveries_page_with_load_more_and_failures_are_toasts(dashboard, org_id, receiver):
    page = dashboard.page
    dashboard.sign_in(org_id)
    dashboard.open("/dashboard/webhooks")
    add_endpoint(page, receiver.url)
    endpoint_id = page.locator("#webhooks-table tbody tr").get_attribute("data-endpoint-id")
    for _ in range(26):
        assert page.evaluate(FETCH, ["POST", f"/console/webhooks/{endpoint_id}/test"]) == 202
    dashboard.open(f"/dashboard/webhooks/{endpoint_id}")
    rows = page.locator("#deliveries-table tbody tr")
    expect(rows).to_have_count(25)
    more = page.get_by_role("button", name="Load more")
    more.click()
    expect(rows).to_have_count(26)
    expect(more).to_be_hidden()
    expect(rows.nth(25)).to_be_focused()  # the button went away: its first new row has the focus

    # The server unreachable: a toast naming the endpoint, with the focus; the page stays.
    page.route("**/test", lambda route: route.abort())
    page.get_by_role("button", name="Send test event").click()
    failed = page.locator(".toast-error", has_text=f"{receiver.url} was not changed")
    expect(failed).to_contain_text("could not be reached")
    expect(failed).to_be_focused()
    expect(page.get_by_role("heading", level=1)).to_have_text(receiver.url)


def test_an_endpoints_page_is_for_webhook_managers_only(dashboard, org_id, receiver):
    page = dashboard.page
    dashboard.sign_in(org_id)
    dashboard.open("/dashboard/webhooks")
    add_endpoint(page, receiver.url)
    href = (
        page.locator("#webhooks-table").get_by_role("link", name=receiver.url).get_attribute("href")
    )
    dashboard.sign_out()
    dashboard.sign_in(org_id, role="member", user_id="user_bob", permissions=("org:api_keys:read",))
    dashboard.open(href)  # not theirs: sent to the first page they may see
    expect(page).to_have_url(re.compile(r"/dashboard/keys$"))
    dashboard.sign_out()
    dashboard.sign_in(
        org_id, role="member", user_id="user_carol", permissions=("org:webhooks:manage",)
    )
    expect(page).to_have_url(re.compile(r"/dashboard/webhooks$"))  # sent on from the keys
    dashboard.open(href)
    expect(page.get_by_role("heading", level=1)).to_have_text(receiver.url)
    expect(page.get_by_role("button", name="Send test event")).to_be_visible()


def test_a_long_url_and_description_do_not_widen_the_page_at_360(dashboard, org_id):
    page = dashboard.page
    use_width(page, "mobile")
    long_url = "http://127.0.0.1:9/" + "h" * 81  # the dialog's 100 characters, unbroken
    dashboard.sign_in(org_id)
    dashboard.open("/dashboard/webhooks")
    add_endpoint(page, long_url, "d" * 100)
    page.locator("#webhooks-table").get_by_role("link", name=long_url).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(long_url)
    page.get_by_role("button", name="Send test event").click()
    expect(page.locator("#deliveries-table tbody tr")).to_have_count(1)
    assert sideways_scroll(page) <= 0, "a long URL widens the endpoint's page at 360 px"
    page.get_by_role("button", name=f"More actions for {long_url}").click()
    expect(page.get_by_role("menuitem", name="Delete…")).to_be_visible()
    assert sideways_scroll(page) <= 0, "the open menu widens the endpoint's page at 360 px"
