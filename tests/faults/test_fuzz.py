"""Property-based fuzzing (hypothesis) of the webhook receivers and the OAuth callback (issue 16).

Bodies are signed with the test keys, so the fuzz reaches past signature checks into envelope parsing and storage:
NUL, lone surrogates, control characters, huge and deeply nested JSON, and wrong types for every envelope field,
plus hostile header and query values. The properties: never a 500; a refused request (4xx) stores nothing and is
counted; an accepted one is stored exactly once. Example counts are printed (``-s``) and asserted."""

import json
from urllib.parse import quote

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.models import Connection, OAuthSession, WebhookEvent, WebhookRejection
from tests.webhooks.conftest import webhook_settings  # noqa: F401 - autouse: the test signing keys
from tests.webhooks.helpers import SHOPIFY_SHOP, SQUARE_MERCHANT, shopify_signature, square_signature

from .harness import print_figures

pytestmark = [pytest.mark.faults, pytest.mark.django_db]

FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])
# Text that includes what databases and parsers choke on: NUL, lone surrogates, control and non-BMP characters.
hostile_text = st.text(
    alphabet=st.one_of(st.characters(), st.sampled_from(["\x00", "\ud800", "\udfff", "\u2028", "\x1b", "😀"])),
    max_size=40,
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), hostile_text)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(hostile_text, inner, max_size=4)),
    max_leaves=25,
)


@st.composite
def deeply_nested(draw):
    depth = draw(st.integers(min_value=1, max_value=20_000))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
    return opener * depth + "1" + closer * depth


def square_bodies():
    envelope = st.fixed_dictionaries(
        {},
        optional={
            "event_id": st.one_of(hostile_text, json_values),
            "type": st.one_of(st.sampled_from(["inventory.count.updated", "order.updated"]), hostile_text,
                              json_values),
            "merchant_id": st.one_of(st.just(SQUARE_MERCHANT), hostile_text, json_values),
            "data": json_values,
        },
    )
    as_json = st.tuples(st.one_of(envelope, json_values), st.booleans()).map(
        lambda pair: json.dumps(pair[0], ensure_ascii=pair[1]).encode("utf-8", "surrogatepass")
    )
    return st.one_of(as_json, deeply_nested().map(str.encode), st.binary(max_size=300))


class Tally:
    """Counts examples by answer, so the test can report and check what the fuzz actually exercised."""

    def __init__(self, name: str):
        self.name, self.by_status = name, {}

    def add(self, status: int) -> None:
        self.by_status[status] = self.by_status.get(status, 0) + 1

    def report(self) -> None:
        total = sum(self.by_status.values())
        # Listed with the fault figures in pytest's summary (tests/faults/conftest.py).
        print_figures(f"fuzz {self.name}", {"examples": total, "answers": dict(sorted(self.by_status.items()))})
        assert total >= 100 and 500 not in self.by_status


def check_webhook(response, before_events: int, before_rejections: int):
    assert response.status_code != 500, response.content[:300]
    assert response.status_code < 500  # no 503 "retry later" either: the database is up
    events = WebhookEvent.objects.count()
    rejections = sum(WebhookRejection.objects.values_list("count", flat=True))
    if response.status_code >= 400:
        assert events == before_events, "a refused delivery was stored"
        assert rejections == before_rejections + 1, "a refused delivery was not counted"
    else:
        assert response.json()["status"] in {"received", "failed", "unmatched", "ignored", "duplicate"}
        assert events == before_events + (0 if response.json()["status"] == "duplicate" else 1)


def test_fuzz_square_receiver(retailer):
    Connection.objects.create(retailer=retailer, provider="square", external_account_id=SQUARE_MERCHANT,
                              status=Connection.Status.ACTIVE, access_token="sq-token")
    tally = Tally("square webhook bodies")

    @FUZZ
    @given(body=square_bodies())
    def run(body):
        before = (WebhookEvent.objects.count(), sum(WebhookRejection.objects.values_list("count", flat=True)))
        signature = square_signature(body, check_sdk=False)
        response = Client().post("/webhooks/square/", body, content_type="application/json",
                                 HTTP_X_SQUARE_HMACSHA256_SIGNATURE=signature)
        tally.add(response.status_code)
        check_webhook(response, *before)

    run()
    tally.report()


latin1_header = st.text(alphabet=st.one_of(st.characters(max_codepoint=255), st.just("\x00")), max_size=60)


def test_fuzz_shopify_receiver_headers_and_bodies(retailer):
    Connection.objects.create(retailer=retailer, provider="shopify", external_account_id=SHOPIFY_SHOP,
                              status=Connection.Status.ACTIVE, access_token="shpat-token")
    tally = Tally("shopify webhook headers and bodies")

    @FUZZ
    @given(
        body=st.one_of(json_values.map(lambda v: json.dumps(v).encode()), deeply_nested().map(str.encode),
                       st.binary(max_size=200)),
        topic=st.one_of(st.sampled_from(["orders/updated", "inventory_levels/update"]), latin1_header),
        shop=st.one_of(st.just(SHOPIFY_SHOP), latin1_header),
        event_id=latin1_header,
        extra=latin1_header,
    )
    def run(body, topic, shop, event_id, extra):
        before = (WebhookEvent.objects.count(), sum(WebhookRejection.objects.values_list("count", flat=True)))
        response = Client().post(
            "/webhooks/shopify/", body, content_type="application/json",
            HTTP_X_SHOPIFY_HMAC_SHA256=shopify_signature(body), HTTP_X_SHOPIFY_TOPIC=topic,
            HTTP_X_SHOPIFY_SHOP_DOMAIN=shop, HTTP_X_SHOPIFY_EVENT_ID=event_id, HTTP_X_FUZZ=extra,
        )
        tally.add(response.status_code)
        check_webhook(response, *before)

    run()
    tally.report()


query_text = st.one_of(hostile_text, st.text(max_size=10).map(lambda t: t * 600))


def raw_query(params: dict[str, str]) -> str:
    """Percent-encode the bytes a hostile client could send, lone surrogates included (as their raw UTF-8-ish
    bytes), which a well-behaved URL encoder would refuse to produce."""
    def enc(text: str) -> str:
        return quote(text.encode("utf-8", "surrogatepass"), safe="")

    return "&".join(f"{enc(k)}={enc(v)}" for k, v in params.items())


def test_fuzz_oauth_callback_query(merchant_user):
    client = Client()
    client.force_login(merchant_user)
    tally = Tally("oauth callback queries")

    @FUZZ
    @given(
        provider=st.sampled_from(["square", "shopify", "netsuite"]),
        params=st.dictionaries(
            st.sampled_from(["state", "code", "shop", "hmac", "timestamp", "host", "error", "error_description",
                             "company", "account", "response_type"]) | query_text,
            query_text, max_size=6,
        ),
    )
    def run(provider, params):
        connections = Connection.objects.count()
        response = client.get(f"/integrations/{provider}/callback/?{raw_query(params)}")
        tally.add(response.status_code)
        assert response.status_code != 500 and response.status_code < 500, response.content[:300]
        assert b"Traceback" not in response.content
        assert Connection.objects.count() == connections  # no forged callback ever connects anything
        assert not OAuthSession.objects.filter(used_at__isnull=False).exists()

    run()
    tally.report()


token_field = st.one_of(st.none(), st.integers(), st.booleans(), hostile_text, st.lists(st.integers(), max_size=2),
                        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


def test_fuzz_oauth_callback_with_a_real_state_and_hostile_token_answers(merchant_user, settings):
    """A connect started for real, then a callback whose other parameters are hostile and whose token endpoint
    (mocked at the provider's HTTP boundary) answers with wrong types for every field: a readable page or a
    redirect, never a 500, and a connection only from a well-formed answer."""
    import responses

    settings.SQUARE_BASE_URL = "https://square.fuzz.test"
    settings.HTTP_MAX_ATTEMPTS = 1
    client = Client()
    client.force_login(merchant_user)
    tally = Tally("oauth callback with a real state")

    @FUZZ
    @given(
        params=st.dictionaries(st.sampled_from(["code", "response_type", "error", "error_description"]),
                               query_text, max_size=4),
        token_answer=st.fixed_dictionaries({}, optional={
            "access_token": token_field, "token_type": token_field, "expires_at": token_field,
            "merchant_id": token_field, "refresh_token": token_field, "refresh_token_expires_at": token_field,
        }),
        status=st.sampled_from([200, 200, 200, 400, 401, 500]),
    )
    def run(params, token_answer, status):
        location = client.get("/integrations/square/connect/")["Location"]
        state = dict(p.split("=", 1) for p in location.split("?", 1)[1].split("&"))["state"]
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            mock.post("https://square.fuzz.test/oauth2/token", json=token_answer, status=status)
            mock.post("https://square.fuzz.test/oauth2/token/status",
                      json={"scopes": ["ITEMS_READ"], "merchant_id": "MLFUZZ"})
            response = client.get(f"/integrations/square/callback/?{raw_query({**params, 'state': state})}")
        tally.add(response.status_code)
        assert response.status_code < 500, response.content[:300]
        assert b"Traceback" not in response.content
        Connection.objects.all().delete()  # every example starts from "not connected"

    run()
    tally.report()
