"""A benchmark's own PostgreSQL database next to DATABASE_URL's: its URLs, and dropping/creating it."""

from __future__ import annotations

import os
from urllib.parse import urlparse


def database_urls(name: str, who: str) -> tuple[str, str]:
    """(admin URL on the ``postgres`` database, URL of the benchmark's own database ``name``)."""
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/shelfops_bench")
    if not base.startswith("postgres"):
        raise SystemExit(f"{who} needs PostgreSQL: set DATABASE_URL")
    parsed = urlparse(base)
    return parsed._replace(path="/postgres").geturl(), parsed._replace(path=f"/{name}").geturl()


def recreate_database(admin_url: str, name: str, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')
