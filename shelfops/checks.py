"""System checks for misconfiguration that would otherwise surface as a failed connect, a silent sandbox or, in
production, a deploy that runs unsafely. Providers are read from the registry: nothing here names one."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from . import production
from .production import Problem


def _providers():
    from integrations.providers import all_providers

    return all_providers()


def provider_problems() -> list[Problem]:
    """Production refuses a provider pointed at the local sandbox or holding the sandbox's built-in
    credentials (they are public, in this repository). A provider with no credentials is not offered."""
    problems = []
    for provider in _providers():
        environment_setting = provider.setting_name("ENVIRONMENT")
        environment = getattr(settings, environment_setting, "local")
        if environment == "local":
            problems.append(Problem(
                environment_setting,
                "is 'local' (the ShelfOps sandbox): set it to 'production' with the provider app's credentials, "
                "or to 'production' with no credentials to leave the provider out."))
            continue
        builtin = [name for name, value in provider.credentials().items()
                   if value and value in provider.sandbox_credentials]
        if builtin:
            problems.append(Problem(
                ", ".join(builtin), "holds the sandbox's built-in credential; set the provider app's own."))
    return problems


def enforce_production() -> None:
    """Called when the apps are ready, in every process (web, workers, beat, every manage.py command): the
    settings guard has already covered the core settings; this adds the provider rules."""
    if not production.is_production(settings):
        return
    problems = production.configuration_problems(lambda name, default: getattr(settings, name, default))
    problems += provider_problems()
    if problems:
        raise production.refusal(problems)


@register(Tags.security, deploy=False)
def check_production_configuration(app_configs, **kwargs):
    if not production.is_production(settings):
        return []
    problems = production.configuration_problems(lambda name, default: getattr(settings, name, default))
    problems += provider_problems()
    return [Error(f"{p.setting}: {p.message}", hint="SHELFOPS_ENV=production refuses to start without it.",
                  id="shelfops.E010") for p in problems]


@register(Tags.security, deploy=False)
def check_provider_configuration(app_configs, **kwargs):
    problems = []
    public = settings.BASE_URL.startswith("https://")
    is_production = production.is_production(settings)
    for provider in _providers():
        environment_setting = provider.setting_name("ENVIRONMENT")
        environment = getattr(settings, environment_setting, "local")
        if environment == "local" and public and not is_production:
            problems.append(Warning(
                f"{environment_setting} is 'local' (the ShelfOps sandbox) but BASE_URL is public.",
                hint=f"Set {environment_setting}=production and the real credentials.",
                id="shelfops.W001",
            ))
        credentials = provider.credentials()
        missing = [name for name, value in credentials.items() if not value]
        # All missing = the provider is left out on purpose; some missing = a half-configured app.
        if environment != "local" and missing and len(missing) < len(credentials):
            problems.append(Error(
                f"{provider.name} is in its {environment} environment but {', '.join(missing)} is not set.",
                hint="Set the provider app's credentials in the environment (or none to leave it out).",
                id="shelfops.E001",
            ))
        problems += provider.system_checks(production=is_production)  # the provider's own, if any
    if not [key for key in settings.FERNET_KEYS if key]:
        problems.append(Error("FERNET_KEYS is empty: secrets cannot be encrypted.", id="shelfops.E002"))
    return problems
