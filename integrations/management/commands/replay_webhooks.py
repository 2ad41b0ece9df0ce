"""``replay_webhooks [--failed] [--unmatched] [--ids ...] [--provider P] [--inline]``: process stored events again."""

from django.core.management.base import BaseCommand, CommandError

from audit import actions as audit_actions
from audit import audited, common_retailer
from integrations.models import WebhookEvent
from integrations.webhooks.replay import replay


class Command(BaseCommand):
    help = "Replay stored webhook events: queue them for the worker again (or process them here with --inline)."

    def add_arguments(self, parser):
        parser.add_argument("--failed", action="store_true", help="every event whose processing failed")
        parser.add_argument("--unmatched", action="store_true", help="events for accounts that had no connection")
        parser.add_argument("--ids", nargs="+", default=[], metavar="ID",
                            help="events by row id or provider event id")
        parser.add_argument("--provider", help="only this provider's events")
        parser.add_argument("--inline", action="store_true", help="process in this process instead of the worker")

    def handle(self, *args, failed, unmatched, ids, provider, inline, **options):
        if not (failed or unmatched or ids):
            raise CommandError("say which events: --failed, --unmatched and/or --ids ID [ID ...]")
        events = WebhookEvent.objects.none()
        if failed:
            events |= WebhookEvent.objects.filter(status=WebhookEvent.Status.FAILED)
        if unmatched:
            events |= WebhookEvent.objects.filter(status=WebhookEvent.Status.UNMATCHED)
        if ids:
            row_ids = [int(i) for i in ids if i.isdigit()]
            by_ids = WebhookEvent.objects.filter(event_id__in=ids) | WebhookEvent.objects.filter(pk__in=row_ids)
            found = set(by_ids.values_list("event_id", flat=True)) | {str(pk) for pk in by_ids.values_list("pk",
                                                                                                   flat=True)}
            missing = [i for i in ids if i not in found]
            if missing:
                raise CommandError(f"no such webhook events: {', '.join(missing)}")
            events |= by_ids
        if provider:
            events = events.filter(provider=provider)
        events = events.distinct()
        with audited(audit_actions.WEBHOOK_REPLAY, actor="command replay_webhooks", events=events.count(),
                     retailer=common_retailer(events, "connection__retailer")) as entry:
            report = replay(events, inline=inline)
            entry.note(result=report.summary())
            if report.still_unmatched:
                entry.fail(still_unmatched=len(report.still_unmatched))
        self.stdout.write(f"Replay: {report.summary()}.")
