"""The desk and reviewer web app: UiTPAS checks, the review queue, the audit log.

Server-rendered pages (FastAPI and Jinja2, no front-end build), in Dutch, served
by `proactief web`. Accounts are made with `proactief accounts`.
"""
