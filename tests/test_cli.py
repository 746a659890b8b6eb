"""The operator CLI of SPEC §2."""

import pytest
import sqlalchemy as sa

from app import create_app
from core.extensions import db
from tenants import keyformat
from tenants.models import ApiKey, AuditEvent, License, Organization, Tenant
from tests.conftest import TEST_ACTOR
from tests.faultproxy import FaultProxy
from tests.redis_service import shared_redis_url


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def invoke(*args: str):
        result = runner.invoke(args=list(args))
        return result

    return invoke


ISSUER = "https://clerk.acme.example"
OTHER_ISSUER = "https://sso.other.example"


@pytest.fixture
def app_config() -> dict:
    return {"CONSOLE_ISSUER": ISSUER}


def _bindings() -> list[tuple[str, str, str]]:
    rows = db.session.scalars(sa.select(Organization).order_by(Organization.id))
    return [(row.tenant_id, row.issuer, row.external_id) for row in rows]


def test_tenants_create_binds_the_organization_to_console_issuer_by_default(cli):
    result = cli("tenants", "create", "Acme", "--external-id", "org_123")
    assert result.exit_code == 0, result.output
    tenant_id = result.stdout.strip()
    assert db.session.get(Tenant, tenant_id).name == "Acme"
    assert _bindings() == [(tenant_id, ISSUER, "org_123")]
    assert cli("tenants", "list").stdout == f"{tenant_id}\tAcme\t{ISSUER} org_123\n"


def test_tenants_create_binds_to_the_given_issuer_and_warns_when_it_is_not_configured(cli):
    result = cli("tenants", "create", "Acme", "--external-id", "org_1", "--issuer", OTHER_ISSUER)
    assert result.exit_code == 0, result.output
    assert _bindings() == [(result.stdout.strip(), OTHER_ISSUER, "org_1")]
    assert f"warning: {OTHER_ISSUER} is not a configured identity provider" in result.stderr


def test_the_same_organization_id_at_two_issuers_is_two_tenants(cli):
    first = cli("tenants", "create", "A", "--external-id", "org_1").stdout.strip()
    second = cli(
        "tenants", "create", "B", "--external-id", "org_1", "--issuer", OTHER_ISSUER
    ).stdout.strip()
    assert first != second
    assert _bindings() == [(first, ISSUER, "org_1"), (second, OTHER_ISSUER, "org_1")]


def test_tenants_link_adds_a_pair_audits_it_and_refuses_a_pair_bound_elsewhere(cli):
    first = cli("tenants", "create", "A", "--external-id", "org_1").stdout.strip()
    second = cli("tenants", "create", "B").stdout.strip()
    linked = cli("tenants", "link", second, "--issuer", OTHER_ISSUER, "--external-id", "org_9")
    assert linked.exit_code == 0, linked.output
    again = cli("tenants", "link", second, "--issuer", OTHER_ISSUER, "--external-id", "org_9")
    assert again.exit_code == 0  # already bound to this tenant: nothing to do
    taken = cli("tenants", "link", second, "--issuer", ISSUER, "--external-id", "org_1")
    assert taken.exit_code == 1 and first in taken.output
    assert _bindings() == [(first, ISSUER, "org_1"), (second, OTHER_ISSUER, "org_9")]
    entries = db.session.scalars(sa.select(AuditEvent)).all()
    assert [(e.tenant_id, e.action, e.changes) for e in entries] == [
        (second, "organization.linked", {"issuer": OTHER_ISSUER, "external_id": "org_9"})
    ]
    assert entries[0].actor.startswith("cli:") and entries[0].actor_issuer is None


def test_tenants_link_of_an_unknown_tenant_fails(cli):
    result = cli("tenants", "link", "ten_nope", "--issuer", ISSUER, "--external-id", "org_1")
    assert result.exit_code == 1 and "No tenant with id 'ten_nope'" in result.output
    assert _bindings() == []


def test_tenants_create_without_any_issuer_is_refused(app, cli):
    app.config["CONSOLE_ISSUER"] = None
    result = cli("tenants", "create", "Acme", "--external-id", "org_1")
    assert result.exit_code == 2 and "--issuer" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Tenant)) == 0


def test_keys_create_prints_the_full_key_alone_on_the_last_line(cli, client, tenant):
    result = cli(
        "keys",
        "create",
        "--tenant",
        tenant.id,
        "--name",
        "server",
        "--scopes",
        "contacts:read,tickets:read",
        "--expires-in",
        "3600",
    )
    assert result.exit_code == 0, result.output
    key = result.stdout.rstrip("\n").splitlines()[-1]
    assert keyformat.is_well_formed(key, "lw")
    health = client.get("/api/v1/health", headers={"x-tenant-api-key": key}).get_json()
    assert health["key"]["scopes"] == ["contacts:read", "tickets:read"]
    assert db.session.scalar(sa.select(ApiKey.expires_at)) is not None
    listing = cli("keys", "list", "--tenant", tenant.id).stdout
    assert "server" in listing and key not in listing and key[:12] in listing


def test_keys_create_makes_a_test_key_with_mode_test(cli, client, tenant):
    result = cli("keys", "create", "--tenant", tenant.id, "--name", "sandbox", "--mode", "test")
    assert result.exit_code == 0, result.output
    key = result.stdout.rstrip("\n").splitlines()[-1]
    assert key.startswith("lw_test_") and keyformat.is_well_formed(key, "lw")
    assert "mode: test" in result.stdout
    health = client.get("/api/v1/health", headers={"x-tenant-api-key": key}).get_json()
    assert health["livemode"] is False
    assert cli("keys", "list", "--tenant", tenant.id).stdout.rstrip("\n").endswith("\ttest")


def test_keys_create_refuses_an_unknown_scope(cli, tenant):
    result = cli("keys", "create", "--tenant", tenant.id, "--name", "x", "--scopes", "root")
    assert result.exit_code != 0
    assert "Unknown scope" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiKey)) == 0


def test_keys_revoke_stops_the_key(cli, client, tenant, api_key):
    key = api_key()
    key_id = client.get("/api/v1/health", headers={"x-tenant-api-key": key}).get_json()["key"]["id"]
    assert cli("keys", "revoke", key_id).exit_code == 0
    assert client.get("/api/v1/health", headers={"x-tenant-api-key": key}).status_code == 401
    assert cli("keys", "revoke", "key_missing").exit_code != 0


def test_licenses_set_changes_gating(cli, client, tenant, api_key):
    key = api_key()
    result = cli(
        "licenses",
        "set",
        "--tenant",
        tenant.id,
        "--status",
        "expired",
        "--expires-at",
        "2030-01-01T00:00:00Z",
        "--enforcement",
        "enforce",
    )
    assert result.exit_code == 0, result.output
    row = db.session.get(License, tenant.id)
    assert (row.status, row.enforcement, row.expires_at.year) == ("expired", "enforce", 2030)
    response = client.post(
        "/api/v1/messages",
        json={"to": "+14155550100", "text": "x"},
        headers={"x-tenant-api-key": key},
    )
    assert response.status_code == 402
    assert cli("licenses", "set", "--tenant", tenant.id, "--status", "bogus").exit_code != 0
    assert (
        cli(
            "licenses",
            "set",
            "--tenant",
            tenant.id,
            "--status",
            "active",
            "--expires-at",
            "yesterday",
        ).exit_code
        != 0
    )


def test_tenants_create_refuses_a_taken_pair_without_a_trace(cli, store):
    tenant = store.create_tenant("Acme", external_id="org_acme", issuer=ISSUER)
    result = cli("tenants", "create", "Again", "--external-id", "org_acme")
    assert result.exit_code == 1
    assert tenant.id in result.output and "Traceback" not in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Tenant)) == 1


def test_keys_list_of_an_unknown_tenant_fails(cli):
    result = cli("keys", "list", "--tenant", "ten_unknown")
    assert result.exit_code == 1
    assert "No tenant with id 'ten_unknown'" in result.output


def test_revoke_during_a_stalled_redis_commits_says_announcing_is_retried_and_exits_0(
    store, tenant
):
    url = sa.make_url(shared_redis_url().replace("redis://", "redis+x://", 1))
    proxy = FaultProxy(url.host or "127.0.0.1", url.port or 6379)
    try:
        cli_app = create_app(
            {"TESTING": True, "REDIS_URL": f"redis://{proxy.host_port}/{url.database or 0}"}
        )
        issued = store.create_key(tenant.id, "server", TEST_ACTOR)
        proxy.set_mode("stall")
        with cli_app.app_context():  # the command runs in the app of the context it finds
            result = cli_app.test_cli_runner().invoke(args=["keys", "revoke", issued.record.id])
            db.engine.dispose()
    finally:
        proxy.close()
    assert result.exit_code == 0, result.output
    assert f"revoked {issued.record.id}" in result.stdout
    assert "announcing it through Redis failed; retrying" in result.stderr, result.output
    store.session.rollback()
    assert store.session.get(ApiKey, issued.record.id).revoked_at is not None


def test_keys_create_and_update_set_description_allow_list_and_limit(cli, store):
    tenant_id = cli("tenants", "create", "Acme").stdout.strip()
    created = cli(
        "keys",
        "create",
        "--tenant",
        tenant_id,
        "--name",
        "ci",
        "--description",
        "CI runner",
        "--allowed-ip",
        "203.0.113.0/24",
        "--allowed-ip",
        "2001:db8::1",
    )
    assert created.exit_code == 0, created.output
    key = db.session.scalar(sa.select(ApiKey))
    assert key.description == "CI runner"
    assert key.allowed_ips == ["203.0.113.0/24", "2001:db8::1"]
    updated = cli("keys", "update", key.id, "--any-ip", "--rate-limit", "30")
    assert updated.exit_code == 0, updated.output
    assert updated.stdout.strip() == f"{key.id}\tallowed_ips: any\trate_limit: 30"
    db.session.expire_all()
    assert db.session.get(ApiKey, key.id).allowed_ips == []
    event = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.changes == {
        "allowed_ips": [["203.0.113.0/24", "2001:db8::1"], []],
        "rate_limit_per_minute": [None, 30],
    }
    assert event.actor.startswith("cli:")


@pytest.mark.parametrize(
    "args",
    [
        ("--allowed-ip", "10.0.0.1/8"),
        ("--allowed-ip", "10.0.0.0/8", "--any-ip"),
        ("--rate-limit", "5", "--default-rate-limit"),
        (),
    ],
)
def test_keys_update_refuses_bad_options_and_changes_nothing(cli, args):
    tenant_id = cli("tenants", "create", "Acme").stdout.strip()
    cli("keys", "create", "--tenant", tenant_id, "--name", "ci", "--allowed-ip", "192.0.2.1")
    key_id = db.session.scalar(sa.select(ApiKey.id))
    result = cli("keys", "update", key_id, *args)
    assert result.exit_code != 0
    db.session.expire_all()
    assert db.session.get(ApiKey, key_id).allowed_ips == ["192.0.2.1"]
