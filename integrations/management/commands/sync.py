"""``manage.py sync <connection> [--stream S] [--full]``: run syncs now, in this process, with a progress bar on a
terminal. ``<connection>`` is the connection's id, its external account id (Square merchant id, Shopify shop
domain, NetSuite account id) or ``provider:account``."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from audit import actions as audit_actions
from audit import record
from integrations.models import Connection, SyncRun
from integrations.sync import engine, services
from integrations.sync.drift import summary as drift_summary
from integrations.sync.priority import lower_priority


def find_connection(ref: str) -> Connection:
    queryset = Connection.objects.select_related("retailer")
    if ref.isdigit():
        match = queryset.filter(pk=int(ref)).first()
        if match:
            return match
    if ":" in ref:
        provider, account = ref.split(":", 1)
        matches = list(queryset.filter(provider=provider, external_account_id=account))
    else:
        matches = list(queryset.filter(external_account_id=ref))
    if not matches:
        raise CommandError(f"no connection {ref!r} (give its id, external account id or provider:account)")
    if len(matches) > 1:
        raise CommandError(f"{ref!r} matches several connections; use provider:account or the id")
    return matches[0]


class Command(BaseCommand):
    help = "Sync a connection's streams now (all of them, or --stream S), incrementally or with --full."

    def add_arguments(self, parser):
        parser.add_argument("connection", help="connection id, external account id, or provider:account")
        parser.add_argument("--stream", action="append", dest="streams", metavar="S",
                            help="stream to sync (repeatable), e.g. reconcile_stock for the stock check; default: "
                                 "every data stream of the provider")
        parser.add_argument("--full", action="store_true", help="full resync: ignore the saved cursor")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar even on a terminal")
        parser.add_argument("--low-priority", action="store_true",
                            help="lower this process's CPU priority by SYNC_WORKER_NICE, as the syncs worker does")

    def handle(self, *args, connection: str, streams, full: bool, no_progress: bool, low_priority: bool = False,
               **options):
        if low_priority:  # give way to webhook intake on the CPU, as the syncs worker does
            lower_priority()
        conn = find_connection(connection)
        names = streams or services.stream_names(conn)
        unknown = [name for name in names if name not in services.all_stream_names(conn)]
        if unknown:
            raise CommandError(f"{conn.provider} has no stream {', '.join(unknown)}; streams: "
                               f"{', '.join(services.all_stream_names(conn))}")
        show_bar = not no_progress and sys.stdout.isatty()
        failures = []
        for name in names:
            run = services.create_run(conn, name, full=full, trigger="command")
            if run is None:
                self.stderr.write(f"{name}: a run is already queued or running; skipped")
                failures.append(name)
                continue
            bar = tqdm(desc=f"{conn.provider}:{name}", unit=" rec", disable=not show_bar, file=sys.stdout)

            def progress(run, page, bar=bar):
                bar.update(len(page.records))
                bar.set_postfix(pages=run.pages, new=run.records_created, updated=run.records_updated)

            try:
                result = engine.execute(run.pk, progress=progress)
            finally:
                bar.close()
            result = result or SyncRun.objects.get(pk=run.pk)
            summary = (f"{name}: {result.status}, {result.pages} pages, {result.records_seen} records "
                       f"({result.records_created} new, {result.records_updated} updated, "
                       f"{result.records_unchanged} unchanged, {result.records_held} held)")
            if result.drift is not None:  # the stock check: what it found matters more than what it wrote
                summary += f"; {drift_summary(result.drift)}"
            if result.status == SyncRun.Status.SUCCEEDED:
                self.stdout.write(self.style.SUCCESS(summary))
            elif result.status == SyncRun.Status.SUCCEEDED_WITH_ERRORS:
                # Synced, but some records were refused: say which, without failing the command.
                self.stdout.write(self.style.WARNING(f"{summary}, {result.records_refused} refused: {result.error}"))
            else:
                self.stdout.write(self.style.ERROR(f"{summary}: {result.error}"))
                failures.append(name)
        record(audit_actions.FULL_RESYNC if full else audit_actions.SYNC_NOW, actor="command sync", connection=conn,
               outcome="failure" if failures else "success", streams=list(names), not_synced=failures)
        if failures:
            raise CommandError(f"not synced: {', '.join(failures)}")
