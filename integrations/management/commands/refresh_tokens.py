"""Refresh OAuth tokens now: those due (default), every active connection (--all), or named ones (--ids)."""

from django.core.management.base import BaseCommand, CommandError

from audit import actions as audit_actions
from audit import audited
from integrations.models import Connection
from integrations.oauth.tokens import due_for_refresh, flow_for, refresh_connection


class Command(BaseCommand):
    help = "Refresh OAuth access tokens that are due (or all / the given connections), under the refresh lock."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="Refresh every active connection now.")
        parser.add_argument("--ids", nargs="+", type=int, help="Refresh these connections now.")

    def handle(self, *args, **options):
        from integrations.http.errors import ProviderAuthError

        if options["ids"]:
            connections = list(Connection.objects.filter(pk__in=options["ids"]))
            if len(connections) != len(set(options["ids"])):
                raise CommandError("unknown connection id(s)")
            force = True
        elif options["all"]:
            connections, force = list(Connection.objects.active().filter(refresh_token__isnull=False)), True
        else:
            connections, force = list(Connection.objects.filter(pk__in=due_for_refresh())), False
        counts = {"refreshed": 0, "not needed": 0, "failed": 0}
        for connection in connections:
            before, failures_before = connection.last_refresh_at, connection.refresh_failures
            try:
                with audited(audit_actions.TOKEN_REFRESH, actor="command refresh_tokens", connection=connection,
                             forced=force) as entry:
                    refresh_connection(connection, force=force, margin=flow_for(connection).refresh_ahead)
                    if connection.refresh_failures > failures_before:
                        entry.fail(error=connection.last_refresh_error)
            except ProviderAuthError:
                counts["failed"] += 1
                self.stdout.write(f"{connection}: failed ({connection.status}); see last refresh error in admin")
                continue
            if connection.refresh_failures > failures_before:
                # Refreshing ahead failed but the current token still works: a failure to report, not "not needed".
                counts["failed"] += 1
                self.stdout.write(f"{connection}: failed, current token kept ({connection.last_refresh_error})")
                continue
            outcome = "refreshed" if connection.last_refresh_at != before else "not needed"
            counts[outcome] += 1
            self.stdout.write(f"{connection}: {outcome}, expires {connection.token_expires_at}")
        self.stdout.write(", ".join(f"{k}: {v}" for k, v in counts.items()))
        if counts["failed"]:
            raise CommandError(f"{counts['failed']} connection(s) could not be refreshed")
