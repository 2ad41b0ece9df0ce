import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


class Retailer(models.Model):
    """The tenant: every synced row and every connection belongs to exactly one retailer."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MerchantUser(models.Model):
    """Links a login to the one retailer it works for. The one-to-one on user makes "exactly one" a constraint."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="merchant")
    retailer = models.ForeignKey(Retailer, on_delete=models.CASCADE, related_name="merchant_users")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user} @ {self.retailer}"


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A REST API token for one retailer. Only a SHA-256 of the key is stored; the key is shown once."""

    PREFIX_LENGTH = 8

    retailer = models.ForeignKey(Retailer, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=PREFIX_LENGTH, db_index=True, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    is_staff_token = models.BooleanField(
        default=False, help_text="Staff tokens may use staff-only endpoints (still scoped to the retailer)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "API token"
        ordering = ["retailer", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, retailer: Retailer, name: str, **extra) -> tuple["ApiToken", str]:
        """Create a token and return it with its clear-text key (the only time the key exists in clear)."""
        key = secrets.token_urlsafe(32)
        token = cls.objects.create(
            retailer=retailer, name=name, prefix=key[: cls.PREFIX_LENGTH], key_hash=cls.hash_key(key), **extra
        )
        return token, key

    @classmethod
    def authenticate(cls, key: str) -> "ApiToken | None":
        return (
            cls.objects.active()
            .select_related("retailer")
            .filter(key_hash=cls.hash_key(key), retailer__is_active=True)
            .first()
        )

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def revoke(self) -> None:
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])
