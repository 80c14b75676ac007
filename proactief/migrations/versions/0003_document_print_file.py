"""The print file a letter or invoice is joined into.

Documents are rendered in batches, each joined into one print file; the file is
recorded with the documents before it is made, so that a rerun can tell a batch
that went out (its file exists: the documents are only marked written) from one
that never did (printed again). Null for documents recorded before, and for
documents without a print file.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("document") as table:
        table.add_column(sa.Column("print_file", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("document") as table:
        table.drop_column("print_file")
