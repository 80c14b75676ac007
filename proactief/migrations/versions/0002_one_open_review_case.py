"""At most one open review case per subject, benefit and period.

The store always meant "one case per subject, never two", but checked it by reading
before writing: two desk checks of the same citizen at the same moment could each
find no open case and open one. A partial unique index makes the database refuse
the second; the store then reads again and updates the case the other writer opened.

A database that already holds such twins keeps the oldest open case (the one a
reviewer may be looking at) and closes the later ones, naming the case they
duplicate.

Revision ID: 0002
Revises: 0001
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

INDEX = "uq_review_case_open_subject"
OPEN = sa.text("status = 'open'")

review_case = sa.table(
    "review_case",
    sa.column("id", sa.Integer()),
    sa.column("benefit", sa.String()),
    sa.column("period", sa.String()),
    sa.column("subject", sa.String()),
    sa.column("status", sa.String()),
    sa.column("closed_at", sa.DateTime(timezone=True)),
    sa.column("resolution", sa.String()),
)


def _close_twins() -> None:
    connection = op.get_bind()
    open_cases = connection.execute(
        sa.select(
            review_case.c.id,
            review_case.c.benefit,
            review_case.c.period,
            review_case.c.subject,
        )
        .where(review_case.c.status == "open")
        .order_by(review_case.c.id)
    )
    kept: dict[tuple[str, str, str], int] = {}
    twins: list[tuple[int, int]] = []
    for case_id, benefit, period, subject in open_cases:
        first = kept.setdefault((benefit, period, subject), case_id)
        if first != case_id:
            twins.append((case_id, first))
    now = datetime.now(UTC)
    for case_id, first in twins:
        connection.execute(
            review_case.update()
            .where(review_case.c.id == case_id)
            .values(
                status="closed", closed_at=now, resolution=f"duplicate of case {first}"
            )
        )


def upgrade() -> None:
    _close_twins()
    op.create_index(
        INDEX,
        "review_case",
        ["benefit", "period", "subject"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="review_case")
