"""The store's revisions, oldest first; alembic reads every module here but this one."""
