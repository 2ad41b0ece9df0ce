from django.utils import timezone
from rest_framework import authentication, exceptions

from inventory.models import ApiToken

# last_used_at is written at most this often per token, so reads do not turn into writes.
LAST_USED_RESOLUTION_SECONDS = 60


class RetailerTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Token <key>``: resolves to the token's retailer. ``request.auth`` is the ApiToken."""

    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header: expected 'Token <key>'.")
        try:
            key = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid token header: the key is not valid text.") from exc
        token = ApiToken.authenticate(key)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return (TokenUser(token), token)

    def authenticate_header(self, request):
        return self.keyword


class TokenUser:
    """The principal behind an API token: a retailer, not a person."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, token: ApiToken):
        self.token = token
        self.retailer = token.retailer
        self.is_staff = token.is_staff_token
        self.pk = None

    def __str__(self) -> str:
        return f"token {self.token.prefix}… of {self.retailer}"
