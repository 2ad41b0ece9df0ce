"""On PostgreSQL the database itself keeps audit entries append-only, whatever code (raw SQL, a shell, a buggy
migration) touches the table: an UPDATE may only clear a reference to a deleted user, token, retailer or
connection (Django's SET_NULL), and a DELETE only happens inside pruning, which sets ``shelfops.audit_prune``
for its own transaction. SQLite (the embedded default) relies on the model's guards alone."""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF current_setting('shelfops.audit_prune', true) = 'on' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit entries are append-only (delete refused)';
    END IF;
    IF NEW.id = OLD.id AND NEW.created_at = OLD.created_at AND NEW.action = OLD.action
       AND NEW.outcome = OLD.outcome AND NEW.actor_label = OLD.actor_label
       AND NEW.connection_label = OLD.connection_label
       AND NEW.ip_address IS NOT DISTINCT FROM OLD.ip_address AND NEW.details = OLD.details
       AND (NEW.actor_user_id IS NULL OR NEW.actor_user_id = OLD.actor_user_id)
       AND (NEW.actor_token_id IS NULL OR NEW.actor_token_id = OLD.actor_token_id)
       AND (NEW.retailer_id IS NULL OR NEW.retailer_id = OLD.retailer_id)
       AND (NEW.connection_id IS NULL OR NEW.connection_id = OLD.connection_id) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit entries are append-only (update refused)';
END;
$$ LANGUAGE plpgsql;
"""
TRIGGER = """
CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_auditentry
FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_auditentry;
DROP FUNCTION IF EXISTS audit_entry_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)
        schema_editor.execute(TRIGGER)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
