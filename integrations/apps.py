from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations (connections, webhooks, syncs)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from shelfops import checks  # registers the configuration system checks

        # Production fails closed in every process, not only in commands that run the system checks.
        checks.enforce_production()

        from . import crypto  # noqa: F401  (connects the FERNET_KEYS setting_changed receiver)
