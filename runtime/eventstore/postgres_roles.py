"""What the DSN's role needs, checked before the migration (deploy/README.md, "Database roles").

The role of the connection string owns the schema (or may create it) and can use the role
``kim_tenant`` that row-level security runs as: either it creates and grants that role
itself (CREATEROLE), or a database administrator has created and granted it once. The
check names what is missing and the SQL to run, in German, for operators.
"""

from __future__ import annotations

import re

import psycopg
from psycopg.rows import TupleRow

from runtime.eventstore.outage import DatabaseRolesMissing, DbTimeouts

TENANT_ROLE = "kim_tenant"

# One round trip. SET ROLE needs membership (PostgreSQL 16: the SET option); granting it to
# oneself needs superuser, the ADMIN option, or before 16 CREATEROLE.
FACTS = f"""
WITH v AS (SELECT current_setting('server_version_num')::int >= 160000 AS v16)
SELECT current_user::text, current_database()::text, r.rolsuper, r.rolcreaterole,
    t.oid IS NOT NULL,
    coalesce(pg_has_role(current_user, t.oid, CASE WHEN v.v16 THEN 'SET' ELSE 'MEMBER' END),
        false),
    r.rolsuper OR coalesce(pg_has_role(current_user, t.oid, 'MEMBER WITH ADMIN OPTION'), false)
        OR (r.rolcreaterole AND NOT v.v16),
    (SELECT pg_get_userbyid(n.nspowner)::text FROM pg_namespace n WHERE n.nspname = %s),
    has_database_privilege(current_database(), 'CREATE')
FROM v, pg_roles r LEFT JOIN pg_roles t ON t.rolname = '{TENANT_ROLE}'
WHERE r.rolname = current_user
"""


_RESERVED = {"all", "current_user", "group", "none", "public", "role", "session_user", "user"}


def _ident(name: str) -> str:
    if re.fullmatch(r"[a-z_][a-z0-9_]*", name) and name not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def role_problems(conn: psycopg.Connection[TupleRow], schema: str) -> DatabaseRolesMissing | None:
    """What keeps the store from migrating and working with this connection's role."""
    row = conn.execute(FACTS, (schema,)).fetchone()
    assert row is not None
    user, database, superuser, createrole, exists, member, can_grant, owner, can_create = row
    problems: list[str] = []
    sql: list[str] = []
    who = f"„{user}“"
    if not exists and not (superuser or createrole):
        problems.append(
            f"Die Rolle {TENANT_ROLE} fehlt, und die Rolle {who} der Datenbankverbindung darf"
            " keine Rollen anlegen (CREATEROLE)."
        )
        sql += [f"CREATE ROLE {TENANT_ROLE} NOLOGIN;", f"GRANT {TENANT_ROLE} TO {_ident(user)};"]
    elif exists and not member and not can_grant:
        problems.append(
            f"Die Rolle {TENANT_ROLE} ist der Rolle {who} der Datenbankverbindung nicht"
            " zugewiesen, und sie darf sie sich nicht selbst zuweisen."
        )
        sql.append(f"GRANT {TENANT_ROLE} TO {_ident(user)};")
    if owner is not None and owner != user and not superuser:
        problems.append(f"Das Schema „{schema}“ gehört „{owner}“, nicht der Rolle {who}.")
        sql.append(f"ALTER SCHEMA {_ident(schema)} OWNER TO {_ident(user)};")
    elif owner is None and not (can_create or superuser):
        problems.append(
            f"Das Schema „{schema}“ fehlt, und die Rolle {who} darf in der Datenbank"
            f" „{database}“ keine Schemas anlegen."
        )
        sql.append(f"CREATE SCHEMA {_ident(schema)} AUTHORIZATION {_ident(user)};")
    if not problems:
        return None
    lines = [
        f"Der Ereignisspeicher kann mit der Rolle {who} nicht arbeiten:",
        *(f"  ✗ {p}" for p in problems),
        "Bitte einmalig als Datenbankadministrator:in (z. B. postgres) in der Datenbank"
        f" „{database}“ ausführen:",
        *(f"    {s}" for s in sql),
        "(Siehe deploy/README.md, Abschnitt „Database roles“.)",
    ]
    return DatabaseRolesMissing("\n".join(lines))


def check_roles(dsn: str, schema: str, timeouts: DbTimeouts) -> DatabaseRolesMissing | None:
    """``role_problems`` on a connection of its own (``psycopg.OperationalError`` if the
    database cannot be reached)."""
    kwargs = timeouts.connection_kwargs()
    with psycopg.connect(dsn, autocommit=True, **kwargs) as conn:
        return role_problems(conn, schema)


def migrate(dsn: str, schema: str, timeouts: DbTimeouts, *ddl: str) -> None:
    """Apply ``ddl`` (``{schema}`` replaced) once the roles are right, one process at a time.

    Waiting for another process's migration is bounded by the statement timeout; the DDL
    itself may take longer (at most 30 s), once per process.
    """
    kwargs = timeouts.connection_kwargs()
    with psycopg.connect(dsn, autocommit=True, **kwargs) as conn:
        missing = role_problems(conn, schema)
        if missing is not None:
            raise missing
        with conn.transaction():
            conn.execute(
                "SELECT set_config('lock_timeout', %s, true)", (str(timeouts.statement_ms),)
            )
            conn.execute(
                "SELECT set_config('statement_timeout', %s, true)",
                (str(max(timeouts.statement_ms, 30_000)),),
            )
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('kim-migrate'))")
            for part in ddl:
                conn.execute(part.format(schema=schema).encode())


def startup_check(event_store: str, schema: str, timeouts: DbTimeouts) -> tuple[int, str] | None:
    """Before a command opens the store: ``(2, message)`` if the roles are not right,
    ``(0, warning)`` if PostgreSQL cannot be reached (a service starts anyway and catches
    up), None if all is well or the store is no PostgreSQL store. Messages in German."""
    if not event_store.startswith(("postgresql://", "postgres://")):
        return None
    try:
        missing = check_roles(event_store, schema, timeouts)
    except psycopg.OperationalError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return 0, f"PostgreSQL ist nicht erreichbar ({first}); Rollen nicht geprüft."
    if missing is None:
        return None
    return 2, f"KIM startet nicht. {missing}"
