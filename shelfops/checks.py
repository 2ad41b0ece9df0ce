"""System checks for misconfiguration that would otherwise surface as a failed connect or a silent sandbox."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

PROVIDER_CREDENTIALS = {
    "SQUARE": ("SQUARE_CLIENT_ID", "SQUARE_CLIENT_SECRET", "SQUARE_WEBHOOK_SIGNATURE_KEY"),
    "SHOPIFY": ("SHOPIFY_CLIENT_ID", "SHOPIFY_CLIENT_SECRET"),
    "NETSUITE": ("NETSUITE_CLIENT_ID", "NETSUITE_CLIENT_SECRET"),
}


@register(Tags.security, deploy=False)
def check_provider_configuration(app_configs, **kwargs):
    problems = []
    public = settings.BASE_URL.startswith("https://")
    for provider, names in PROVIDER_CREDENTIALS.items():
        environment = getattr(settings, f"{provider}_ENVIRONMENT", "local")
        if environment == "local" and public:
            problems.append(Warning(
                f"{provider}_ENVIRONMENT is 'local' (the ShelfOps sandbox) but BASE_URL is public.",
                hint=f"Set {provider}_ENVIRONMENT=production and the real credentials.",
                id="shelfops.W001",
            ))
        if environment != "local":
            missing = [name for name in names if not getattr(settings, name, "")]
            if missing:
                problems.append(Error(
                    f"{provider} is in its {environment} environment but {', '.join(missing)} is not set.",
                    hint="Set the provider app's credentials in the environment.",
                    id="shelfops.E001",
                ))
    if not settings.FERNET_KEYS:
        problems.append(Error("FERNET_KEYS is empty: secrets cannot be encrypted.", id="shelfops.E002"))
    return problems
