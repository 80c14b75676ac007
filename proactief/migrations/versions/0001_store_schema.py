"""The store's schema as the first versions of Proactief created it.

Before migrations, the store made its tables with `create_all` on first use. This
revision creates exactly those tables; a database made that way (it has the tables
but no `alembic_version`) is recognised and recorded at this revision instead of
being created again (see `proactief.migrations`).

Datetimes are stored with their time zone (always UTC; SQLite keeps the UTC wall
time), money in whole cents, lists and evidence as JSON text.

Revision ID: 0001
Revises: (none)
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _text(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(), nullable=nullable)


def _moment(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _number(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=nullable)


def _key() -> sa.Column:
    return sa.Column("id", sa.Integer(), primary_key=True)


def upgrade() -> None:
    # A run of a flow: its benefit, period and look-up date, and its counts.
    op.create_table(
        "run",
        _text("benefit"),
        _text("period"),
        sa.Column("as_of", sa.Date(), nullable=False),
        _moment("started_at"),
        _moment("finished_at", nullable=True),
        _text("status"),
        _text("counts"),
        _text("flow_run_id", nullable=True),
        sa.Column("id", sa.String(), primary_key=True),
    )
    op.create_index("ix_run_benefit", "run", ["benefit"])

    # One decision per benefit, period and subject.
    op.create_table(
        "decision",
        _text("benefit"),
        _text("period"),
        _text("subject"),
        _text("subject_ref"),
        _text("outcome"),
        _text("category", nullable=True),
        _number("amount_cents", nullable=True),
        _number("extra_credit_cents", nullable=True),
        _text("reasons"),
        _text("evidence"),
        _text("rule_version"),
        _text("run_id"),
        _moment("decided_at"),
        _key(),
        sa.UniqueConstraint("benefit", "period", "subject"),
    )
    op.create_index("ix_decision_subject_ref", "decision", ["subject_ref"])

    # Cases waiting for, or decided by, a reviewer.
    op.create_table(
        "review_case",
        _text("benefit"),
        _text("period"),
        _text("subject"),
        _text("subject_ref"),
        _text("reasons"),
        _text("evidence"),
        _text("status"),
        _text("run_id"),
        _moment("created_at"),
        _moment("closed_at", nullable=True),
        _text("resolution", nullable=True),
        _text("decided_by", nullable=True),
        _text("motivation", nullable=True),
        _key(),
    )
    op.create_index("ix_review_case_benefit", "review_case", ["benefit"])
    op.create_index("ix_review_case_status", "review_case", ["status"])
    op.create_index("ix_review_case_subject_ref", "review_case", ["subject_ref"])

    # Letters and invoices, recorded before they are written, once per key.
    op.create_table(
        "document",
        _text("idempotency_key"),
        _text("benefit"),
        _text("period"),
        _text("subject"),
        _text("kind"),
        _text("reference"),
        _text("path"),
        _text("status"),
        _text("run_id"),
        _moment("recorded_at"),
        _moment("written_at", nullable=True),
        _key(),
        sa.UniqueConstraint("idempotency_key"),
    )

    # Every registry look-up: who, which service, when, the result code.
    op.create_table(
        "registry_consultation",
        _text("run_id", nullable=True),
        _text("service"),
        _text("consumer"),
        _text("purpose"),
        _text("subject_ref"),
        _moment("at"),
        _text("result_code"),
        _number("duration_ms"),
        _number("attempt"),
        _key(),
    )
    op.create_index(
        "ix_registry_consultation_run_id", "registry_consultation", ["run_id"]
    )

    # The web app's accounts and signed-in browsers.
    op.create_table(
        "account",
        _text("username"),
        _text("display_name"),
        _text("role"),
        _text("password_hash"),
        sa.Column("active", sa.Boolean(), nullable=False),
        _number("failed_logins"),
        _moment("locked_until", nullable=True),
        _moment("created_at"),
        _key(),
    )
    op.create_index("ix_account_username", "account", ["username"], unique=True)
    op.create_table(
        "web_session",
        _text("token_hash"),
        _text("username"),
        _text("csrf_token"),
        _moment("created_at"),
        _moment("last_seen_at"),
        _moment("expires_at"),
        _key(),
    )
    op.create_index(
        "ix_web_session_token_hash", "web_session", ["token_hash"], unique=True
    )
    op.create_index("ix_web_session_username", "web_session", ["username"])

    # The audit log.
    op.create_table(
        "audit_event",
        _moment("at"),
        _text("actor"),
        _text("action"),
        _text("benefit", nullable=True),
        _text("subject_ref", nullable=True),
        _text("outcome", nullable=True),
        _text("detail"),
        _key(),
    )
    op.create_index("ix_audit_event_at", "audit_event", ["at"])
    op.create_index("ix_audit_event_actor", "audit_event", ["actor"])
    op.create_index("ix_audit_event_action", "audit_event", ["action"])

    # Vehicles registered free of charge in the Low Emission Zone.
    op.create_table(
        "lez_registration",
        _text("card_holder"),
        _text("card_holder_ref"),
        _text("plate"),
        _text("applicant_ref"),
        _text("client"),
        _moment("registered_at"),
        sa.Column("valid_until", sa.Date(), nullable=False),
        _text("status"),
        _moment("checked_at"),
        _moment("ended_at", nullable=True),
        _text("end_reason", nullable=True),
        _key(),
    )
    op.create_index(
        "ix_lez_registration_card_holder", "lez_registration", ["card_holder"]
    )
    op.create_index("ix_lez_registration_plate", "lez_registration", ["plate"])
    op.create_index("ix_lez_registration_status", "lez_registration", ["status"])

    # Systems allowed to call the API, by a hash of their key.
    op.create_table(
        "api_client",
        _text("name"),
        _text("prefix"),
        _text("key_hash"),
        _moment("created_at"),
        _moment("revoked_at", nullable=True),
        _key(),
    )
    op.create_index("ix_api_client_name", "api_client", ["name"])
    op.create_index("ix_api_client_key_hash", "api_client", ["key_hash"], unique=True)

    # Invoices held until a reviewer gives the pupil a tariff.
    op.create_table(
        "held_invoice",
        _text("idempotency_key"),
        _text("benefit"),
        _text("period"),
        _text("subject"),
        _text("subject_ref"),
        _text("school_year"),
        _number("check"),
        _text("school_id"),
        _text("school_name"),
        _text("pupil_class"),
        sa.Column("family_discount", sa.Boolean(), nullable=False),
        _text("lines"),
        _text("run_id"),
        _moment("held_at"),
        _key(),
        sa.UniqueConstraint("idempotency_key"),
    )
    op.create_index("ix_held_invoice_period", "held_invoice", ["period"])


def downgrade() -> None:
    for table in (
        "held_invoice",
        "api_client",
        "lez_registration",
        "audit_event",
        "web_session",
        "account",
        "registry_consultation",
        "document",
        "review_case",
        "decision",
        "run",
    ):
        op.drop_table(table)
