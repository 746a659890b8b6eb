"""Pentest: a webhook URL is readable only with ``org:webhooks:manage`` (SPEC §9.3, §10).

Webhook URLs routinely carry their own secret (Slack's and Discord's incoming webhooks are
``https://hooks.slack.com/services/T…/B…/<secret>``). ``GET /console/webhooks`` needs
``org:webhooks:manage``, but the full URL also went into the audit log (``webhook.created``,
``webhook.updated``, ``webhook.deleted``) and into the ``webhook.test`` event, both readable
with ``org:api_keys:read`` alone: a key reader learnt every endpoint's secret URL. Both now
keep the scheme and host only.
"""

from __future__ import annotations

from tests.console.idp import bearer

SECRET_PATH = "services/T0AAAA/B0BBBB/Zq9s3cr3tPathPart"
URL = f"https://hooks.example.com/{SECRET_PATH}?token=qs3cr3t"


def test_a_key_reader_cannot_read_webhook_urls(client, idp, admin_token):
    reader = idp.token(
        sub="user_reader", role="member", version=1, org_permissions=["org:api_keys:read"]
    )
    created = client.post(
        "/console/webhooks", json={"url": URL, "events": ["*"]}, headers=bearer(admin_token)
    )
    assert created.status_code == 201, created.get_json()
    endpoint = created.get_json()["id"]
    patched = client.patch(
        f"/console/webhooks/{endpoint}",
        json={"url": URL + "&v=2"},
        headers=bearer(admin_token),
    )
    assert patched.status_code == 200
    tested = client.post(f"/console/webhooks/{endpoint}/test", headers=bearer(admin_token))
    assert tested.status_code == 202

    assert client.get("/console/webhooks", headers=bearer(reader)).status_code == 403
    for path in ("/console/audit-log", "/console/events"):
        answer = client.get(path, headers=bearer(reader))
        assert answer.status_code == 200
        text = answer.get_data(as_text=True)
        assert "hooks.example.com" in text  # which endpoint it was stays visible
        assert SECRET_PATH not in text and "qs3cr3t" not in text, path
    # The manager still sees the whole URL where the endpoint is managed.
    listed = client.get("/console/webhooks", headers=bearer(admin_token)).get_json()["data"]
    assert listed[0]["url"] == URL + "&v=2"
