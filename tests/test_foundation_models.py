"""The constraints that make ingest idempotent and tenants walls, and secrets encrypted at rest."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction

from integrations.models import Connection
from inventory.models import MerchantUser, ProductMapping, Retailer, StoreMapping, Transaction

WHEN = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _line(retailer, **overrides):
    fields = dict(
        retailer=retailer, source="square", external_account_id="MERCHANT1", external_order_id="ORDER1",
        external_line_id="LINE1", quantity=Decimal("1.5"), unit_price=Decimal("2.50"), currency="USD",
        occurred_at=WHEN,
    )
    fields.update(overrides)
    return Transaction(**fields)


@pytest.mark.django_db
class TestTransactionLineIsStoredOnce:
    def test_the_same_external_order_line_twice_is_one_row(self, retailer):
        _line(retailer).save()
        with pytest.raises(IntegrityError), transaction.atomic():
            _line(retailer, quantity=Decimal("3")).save()
        assert Transaction.objects.count() == 1

    def test_same_ids_from_another_account_or_provider_are_different_lines(self, retailer):
        _line(retailer).save()
        _line(retailer, external_account_id="MERCHANT2").save()
        _line(retailer, source="shopify").save()
        _line(retailer, external_line_id="LINE2").save()
        assert Transaction.objects.count() == 4

    def test_quantities_keep_their_decimals(self, retailer):
        _line(retailer).save()
        assert Transaction.objects.get().quantity == Decimal("1.5")


@pytest.mark.django_db
class TestMappingsAreUnique:
    @pytest.mark.parametrize("model", [StoreMapping, ProductMapping])
    def test_the_same_mapping_twice_is_one_row(self, retailer, model):
        keys = dict(retailer=retailer, provider="shopify", external_account_id="shop.myshopify.com", external_id="7")
        model.objects.create(**keys)
        with pytest.raises(IntegrityError), transaction.atomic():
            model.objects.create(**keys)
        assert model.objects.count() == 1

    def test_an_external_account_cannot_belong_to_two_retailers(self, retailer, other_retailer):
        Connection.objects.create(retailer=retailer, provider="square", external_account_id="MLX")
        with pytest.raises(IntegrityError), transaction.atomic():
            Connection.objects.create(retailer=other_retailer, provider="square", external_account_id="MLX")


@pytest.mark.postgres
@pytest.mark.django_db
def test_constraints_are_real_postgres_unique_indexes():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename IN "
                       "('inventory_transaction', 'inventory_storemapping', 'inventory_productmapping')")
        names = {row[0] for row in cursor.fetchall()}
    assert {"uniq_transaction_line", "uniq_store_mapping_external", "uniq_product_mapping_external"} <= names


@pytest.mark.django_db
class TestMerchantUserBelongsToExactlyOneRetailer:
    def test_a_second_retailer_for_the_same_user_is_refused(self, merchant_user, other_retailer):
        with pytest.raises(IntegrityError), transaction.atomic():
            MerchantUser.objects.create(user=merchant_user, retailer=other_retailer)
        assert MerchantUser.objects.get(user=merchant_user).retailer.slug == "acme"

    def test_a_retailer_may_have_several_merchant_users(self, retailer):
        for name in ("a", "b"):
            user = get_user_model().objects.create_user(name)
            MerchantUser.objects.create(user=user, retailer=retailer)
        assert Retailer.objects.get(pk=retailer.pk).merchant_users.count() == 2


def _raw_token(pk: int) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token, refresh_token FROM integrations_connection WHERE id = %s", [pk])
        access, refresh = cursor.fetchone()
    return bytes(access), bytes(refresh)


@pytest.mark.django_db
class TestSecretsAtRest:
    def test_tokens_are_ciphertext_in_the_database(self, retailer):
        conn = Connection.objects.create(
            retailer=retailer, provider="square", external_account_id="ML1",
            access_token="EAAAplain-access-token", refresh_token="EQAAplain-refresh-token",
        )
        access, refresh = _raw_token(conn.pk)
        assert access.startswith(b"gAAAA") and refresh.startswith(b"gAAAA")
        assert b"plain-access-token" not in access and b"plain-refresh-token" not in refresh
        fresh = Connection.objects.get(pk=conn.pk)
        assert fresh.access_token == "EAAAplain-access-token"
        assert fresh.refresh_token == "EQAAplain-refresh-token"

    def test_secrets_decrypt_after_key_rotation_new_key_first(self, retailer, settings):
        old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
        settings.FERNET_KEYS = [old]
        conn = Connection.objects.create(
            retailer=retailer, provider="square", external_account_id="ML2", access_token="tok-before-rotation",
            refresh_token="refresh-before-rotation",
        )
        before, _ = _raw_token(conn.pk)

        settings.FERNET_KEYS = [new]  # the old key dropped too early: unreadable, loudly
        with pytest.raises(InvalidToken):
            Connection.objects.get(pk=conn.pk)

        settings.FERNET_KEYS = [new, old]  # rotation: newest first, old still decrypts
        rotated = Connection.objects.get(pk=conn.pk)
        assert rotated.access_token == "tok-before-rotation"
        rotated.save()  # re-encrypts with the newest key
        after, _ = _raw_token(conn.pk)
        assert after != before

        settings.FERNET_KEYS = [new]  # the old key can now be retired
        assert Connection.objects.get(pk=conn.pk).access_token == "tok-before-rotation"
