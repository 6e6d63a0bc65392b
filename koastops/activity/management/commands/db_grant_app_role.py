"""Give the application's PostgreSQL role what it needs and no more: full DML on every
table but the activity log, where it may only INSERT and SELECT. Run as the owner of the
tables (the role migrations run as), after ``migrate``; safe to run again."""

from __future__ import annotations

import os
import re

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from koastops.activity.models import ActivityEntry

_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class Command(BaseCommand):
    help = (
        "Create (if needed) and grant the application's database role: SELECT, INSERT, "
        "UPDATE, DELETE on all tables (now and future), only SELECT and INSERT on the "
        "activity log. PostgreSQL only; run as the tables' owner."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--role", required=True, help="The application's role name.")
        parser.add_argument(
            "--password-env",
            metavar="VARIABLE",
            help="Environment variable holding the role's password: the role is created "
            "(or updated) with LOGIN and that password. Without it a missing role is "
            "created NOLOGIN and an existing role's login settings are left alone.",
        )

    def handle(self, *args, role: str, password_env: str | None = None, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("db_grant_app_role is for PostgreSQL only.")
        if not _ROLE.match(role):
            raise CommandError(
                "--role must be a lower-case PostgreSQL identifier (letters, digits, _)."
            )
        password = None
        if password_env:
            password = os.environ.get(password_env, "")
            if not password:
                raise CommandError(f"--password-env: {password_env} is not set or empty.")
        quote = connection.ops.quote_name
        log_table = quote(ActivityEntry._meta.db_table)
        role_q = quote(role)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT current_user, current_schema()")
            owner, schema = cursor.fetchone()
            if role == owner:
                raise CommandError(
                    f"{role} is the role running this command (the tables' owner); the "
                    "application must connect as a different role."
                )
            cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [role])
            row = cursor.fetchone()
            if row is not None and (row[0] or row[1]):
                raise CommandError(f"{role} is a superuser (or bypasses RLS); use a plain role.")
            if row is not None:
                cursor.execute("SELECT pg_has_role(%s, %s, 'MEMBER')", [role, owner])
                if cursor.fetchone()[0]:
                    raise CommandError(
                        f"{role} is a member of {owner}, so it holds the owner's rights; use a "
                        "role outside it."
                    )
            cursor.execute(
                "SELECT tableowner = %s FROM pg_tables WHERE schemaname = %s AND tablename = %s",
                [role, schema, ActivityEntry._meta.db_table],
            )
            owns = cursor.fetchone()
            if owns is None:
                raise CommandError("The activity table does not exist: run migrate first.")
            if owns[0]:
                raise CommandError(f"{role} owns the tables; the application role must not.")
            if row is None:
                cursor.execute(f"CREATE ROLE {role_q} {'LOGIN' if password else 'NOLOGIN'}")
                created = True
            else:
                created = False
            if password:
                # Utility statements take no bind parameters: quote the literal server-side.
                cursor.execute("SELECT quote_literal(%s)", [password])
                literal = cursor.fetchone()[0]
                cursor.execute(f"ALTER ROLE {role_q} LOGIN PASSWORD {literal}")
            schema_q = quote(schema)
            cursor.execute(
                f"GRANT CONNECT ON DATABASE {quote(connection.settings_dict['NAME'])} TO {role_q}"
            )
            cursor.execute(f"GRANT USAGE ON SCHEMA {schema_q} TO {role_q}")
            cursor.execute(
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema_q} TO {role_q}"
            )
            cursor.execute(
                f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {schema_q} TO {role_q}"
            )
            # Tables and sequences later migrations create (as this owner) get the same.
            cursor.execute(
                f"ALTER DEFAULT PRIVILEGES FOR ROLE {quote(owner)} IN SCHEMA {schema_q} "
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role_q}"
            )
            cursor.execute(
                f"ALTER DEFAULT PRIVILEGES FOR ROLE {quote(owner)} IN SCHEMA {schema_q} "
                f"GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {role_q}"
            )
            # The log: append and read, nothing else (the trigger is the second line).
            cursor.execute(f"REVOKE ALL ON {log_table} FROM {role_q}")
            cursor.execute(f"GRANT SELECT, INSERT ON {log_table} TO {role_q}")
            cursor.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {log_table} FROM PUBLIC")
        verb = "Created" if created else "Updated"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} role {role}: full DML on the tables of schema {schema}, only SELECT "
                f"and INSERT on {ActivityEntry._meta.db_table}."
            )
        )
