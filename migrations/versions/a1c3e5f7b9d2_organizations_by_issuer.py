"""A tenant is reached by an (issuer, organization id) pair, never by the organization id alone

Existing tenants' ``external_id`` become organizations of the provider that must have created
them: ``CONSOLE_ISSUER`` when set; else the one provider of ``CONSOLE_IDPS`` when there is
exactly one; else, with no provider configured at all under ``APP_ENV`` development or test,
the development provider. Otherwise the origin of an id cannot be known: those tenants are
left unbound (listed in a warning) until an operator binds each with ``flask tenants link``.
docs/security.md, "Upgrading to issuer-bound tenants", says what to check after upgrading.

Audit entries gain the actor's issuer.

Revision ID: a1c3e5f7b9d2
Revises: 5b87f449f415
Create Date: 2026-11-30 12:00:00

"""

import json
import logging

import sqlalchemy as sa
from alembic import op
from flask import current_app

import tenants.types

revision = "a1c3e5f7b9d2"
down_revision = "5b87f449f415"
branch_labels = None
depends_on = None

DEVELOPMENT_ISSUER = "urn:loopwave:dev-login"  # console/devlogin.py, as of this revision
log = logging.getLogger("alembic.runtime.migration")


def _issuer_of_existing_tenants() -> str | None:
    config = current_app.config
    if config.get("CONSOLE_ISSUER"):
        return config["CONSOLE_ISSUER"]
    raw = config.get("CONSOLE_IDPS") or []
    providers = json.loads(raw) if isinstance(raw, str) else raw
    if len(providers) == 1:
        return providers[0]["issuer"]
    if not providers and config.get("APP_ENV") in ("development", "test"):
        # No provider at all in development: only the development sign-in made tenants.
        return DEVELOPMENT_ISSUER
    # Several providers, or a production upgrade run without its provider settings: the
    # origin of an id cannot be known, and binding a real tenant to the development
    # provider would hand it to anyone who can mint a development token.
    return None


def upgrade():
    organizations = op.create_table(
        "organizations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", tenants.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_organizations_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
        sa.UniqueConstraint("issuer", "external_id", name=op.f("uq_organizations_issuer")),
    )
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_organizations_tenant_id"), ["tenant_id"], unique=False
        )

    connection = op.get_bind()
    tenant_table = sa.table(
        "tenants",
        sa.column("id", sa.String),
        sa.column("external_id", sa.String),
        sa.column("created_at", tenants.types.UTCDateTime(timezone=True)),
    )
    rows = connection.execute(
        sa.select(
            tenant_table.c.id, tenant_table.c.external_id, tenant_table.c.created_at
        ).where(tenant_table.c.external_id.is_not(None))
    ).all()
    issuer = _issuer_of_existing_tenants()
    if rows and issuer is None:
        log.warning(
            "Several identity providers and no CONSOLE_ISSUER: these tenants are left unbound "
            "until `flask tenants link` binds each: %s",
            ", ".join(f"{row.id} ({row.external_id})" for row in rows),
        )
    elif rows:
        op.bulk_insert(
            organizations,
            [
                {
                    "tenant_id": row.id,
                    "issuer": issuer,
                    "external_id": row.external_id,
                    "created_at": row.created_at,
                }
                for row in rows
            ],
        )

    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_tenants_external_id"), type_="unique")
        batch_op.drop_column("external_id")

    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor_issuer", sa.String(length=500), nullable=True))


def downgrade():
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("actor_issuer")

    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_id", sa.String(length=200), nullable=True))
    # The oldest binding of each tenant becomes its external id again, unless another
    # tenant's oldest binding already took that id (the old schema held it unique).
    connection = op.get_bind()
    rows = connection.execute(
        sa.text("SELECT tenant_id, external_id FROM organizations ORDER BY id")
    ).all()
    taken: set[str] = set()
    done: set[str] = set()
    for tenant_id, external_id in rows:
        if tenant_id in done or external_id in taken:
            continue
        connection.execute(
            sa.text("UPDATE tenants SET external_id = :external_id WHERE id = :id"),
            {"external_id": external_id, "id": tenant_id},
        )
        taken.add(external_id)
        done.add(tenant_id)
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_tenants_external_id"), ["external_id"])

    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organizations_tenant_id"))
    op.drop_table("organizations")
