"""Alembic's environment for the store: migrate on the connection it is handed.

`proactief.migrations` opens the connection, takes the lock and the transaction,
and passes the connection in `config.attributes["connection"]`; this script only
runs the revisions on it. There is no alembic.ini and no offline (`--sql`) mode.
"""

from alembic import context
from sqlmodel import SQLModel

import proactief.store  # noqa: F401  (puts the store's tables on SQLModel.metadata)

if context.is_offline_mode():
    raise NotImplementedError(
        "the store's migrations run on a live database only; use"
        " `proactief db upgrade` instead of generating SQL"
    )

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run the store's migrations through proactief.migrations or"
        " `proactief db upgrade`, which hand alembic a connection"
    )
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    # SQLite changes most of a table by copying it: let alembic do that.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
