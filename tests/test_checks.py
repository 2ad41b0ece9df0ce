from shelfops.checks import check_provider_configuration


def ids(settings_overrides, settings):
    for key, value in settings_overrides.items():
        setattr(settings, key, value)
    return [m.id for m in check_provider_configuration(None)]


def test_local_defaults_are_clean(settings):
    assert ids({}, settings) == []


def test_production_environment_without_credentials_is_an_error(settings):
    assert "shelfops.E001" in ids({"SHOPIFY_ENVIRONMENT": "production", "SHOPIFY_CLIENT_SECRET": ""}, settings)


def test_sandbox_behind_a_public_url_is_a_warning(settings):
    assert "shelfops.W001" in ids({"BASE_URL": "https://portal.shelfops.example"}, settings)
