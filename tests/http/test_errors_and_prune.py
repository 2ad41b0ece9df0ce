"""Per-provider error parsing, and pruning of old call-log rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.http.errorparsing import parse_error
from integrations.http.tasks import prune_api_call_logs
from integrations.models import ApiCallLog


def test_square_errors_array():
    parsed = parse_error("square", 429, {"errors": [{"category": "RATE_LIMIT_ERROR", "code": "RATE_LIMITED",
                                                     "detail": "slow down"}]})
    assert parsed.codes == ["RATE_LIMITED"] and parsed.rate_limited and parsed.detail == "slow down"
    assert parse_error("square", 401, {"errors": [{"category": "AUTHENTICATION_ERROR",
                                                   "code": "ACCESS_TOKEN_REVOKED"}]}).auth


def test_shopify_errors_string_dict_and_graphql():
    assert parse_error("shopify", 404, {"errors": "Not Found"}).detail == "Not Found"
    fields = parse_error("shopify", 422, {"errors": {"title": ["can't be blank"]}})
    assert fields.codes == ["title"] and fields.detail == "title: can't be blank"
    gql = parse_error("shopify", 200, {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]})
    assert gql.codes == ["THROTTLED"] and gql.rate_limited


def test_netsuite_error_details():
    parsed = parse_error("netsuite", 401, {"type": "x", "title": "Unauthorized", "status": 401, "o:errorDetails": [
        {"detail": "Invalid login attempt.", "o:errorCode": "INVALID_LOGIN"}]})
    assert parsed.codes == ["INVALID_LOGIN"] and parsed.auth and parsed.detail == "Invalid login attempt."


def test_oauth_error_falls_back_to_the_generic_parser():
    parsed = parse_error("shopify", 400, {"error": "invalid_grant", "error_description": "expired"})
    assert parsed.codes == ["invalid_grant"] and parsed.auth


@pytest.mark.django_db
def test_prune_deletes_rows_older_than_the_retention(settings):
    settings.API_CALL_LOG_RETENTION_DAYS = 14
    old = ApiCallLog.objects.create(provider="square", method="GET", url="https://x/old")
    recent = ApiCallLog.objects.create(provider="square", method="GET", url="https://x/new")
    ApiCallLog.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=15))
    ApiCallLog.objects.filter(pk=recent.pk).update(created_at=timezone.now() - timedelta(days=13))
    assert prune_api_call_logs() == 1
    assert list(ApiCallLog.objects.values_list("pk", flat=True)) == [recent.pk]


def test_prune_task_has_the_beat_name():
    from django.conf import settings

    names = {task for task, _ in settings.SHELFOPS_PERIODIC_TASKS.values()}
    assert prune_api_call_logs.name == "integrations.http.prune_api_call_logs" and prune_api_call_logs.name in names
