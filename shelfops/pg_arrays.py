"""A cursor for statements that take whole columns as parameters (one array per column, ``unnest``-ed in the
server), with the arrays sent as binary parameters (``%b`` placeholders). PostgreSQL with psycopg 3 only.

Django's psycopg cursors bind client-side: every value is quoted into the statement's text. For arrays that quoting
runs a regular expression per element; measured on 200 rows x 5 columns (text, numeric, timestamptz), 5.9 ms of
client CPU per statement, against 0.76 ms with binary parameters, which skip it. The cursor is psycopg's public
``Cursor`` on Django's own connection (the same transaction), wrapped by Django's ``make_cursor`` /
``make_debug_cursor`` as every Django cursor is, so errors arrive as Django's and query logging still sees the
statement.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.db import connection


@contextmanager
def binary_params_cursor():
    import psycopg

    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = psycopg.Cursor(connection.connection)
    cursor = connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
    with cursor:
        yield cursor
