"""Re-encrypt every encrypted value with the newest key in FERNET_KEYS.

Rotation: put the new key first in FERNET_KEYS (keep the old ones after it), run this command, then drop the old
keys. Rows are read and written in batches by primary key, each batch in a transaction, so it can run on a live
system and be re-run safely (a value already under the newest key is simply encrypted again).
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from audit import actions as audit_actions
from audit import audited
from integrations.crypto import encrypted_fields, reset_key_caches


class Command(BaseCommand):
    help = "Re-encrypt every secret (tokens, keys, verifiers) with the newest FERNET_KEYS key, in batches."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, **options):
        # One entry for the whole rotation (no retailer: every tenant's secrets), failure included.
        with audited(audit_actions.KEY_ROTATION, actor="command rotate_fernet_keys") as entry:
            entry.note(values=self._rotate(options))

    def _rotate(self, options) -> int:
        reset_key_caches()  # pick up FERNET_KEYS as configured now
        batch = options["batch_size"]
        by_model: dict = {}
        for model, field in encrypted_fields():
            by_model.setdefault(model, []).append(field.name)
        total = 0
        for model, names in by_model.items():
            rows = values = 0
            last_pk = None
            while True:
                with transaction.atomic():
                    qs = model._default_manager.select_for_update().order_by("pk")
                    if last_pk is not None:
                        qs = qs.filter(pk__gt=last_pk)
                    chunk = list(qs.only("pk", *names)[:batch])
                    if not chunk:
                        break
                    for obj in chunk:
                        # Reading decrypted with whichever key matches; saving encrypts with the first key. Not
                        # bulk_update: the encrypted field would encrypt its CASE expression instead of the values.
                        values += sum(1 for n in names if getattr(obj, n) is not None)
                        obj.save(update_fields=names)
                rows += len(chunk)
                last_pk = chunk[-1].pk
            total += values
            self.stdout.write(f"{model._meta.label}: {rows} row(s), {values} secret value(s) re-encrypted "
                              f"({', '.join(names)})")
        self.stdout.write(f"done: {total} secret value(s) now under the newest key")
        return total
