"""NetSuite's part of the admin connection form: client-credentials (M2M) connections need the Certificate ID
and the certificate's private key, uploaded write-only, checked here and stored encrypted."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

MAX_KEY_BYTES = 16 * 1024


def read_private_key(upload) -> str:
    """The uploaded PEM, checked to be a key that can sign assertions (``ValidationError`` otherwise)."""
    from .m2m import PrivateKeyError, load_signing_key

    if upload.size > MAX_KEY_BYTES:
        raise ValidationError("That file is too large to be a private key.")
    try:
        pem = upload.read().decode("ascii")
        load_signing_key(pem)
    except UnicodeDecodeError:
        raise ValidationError("Upload the key as a PEM text file (-----BEGIN PRIVATE KEY-----).") from None
    except PrivateKeyError as exc:
        raise ValidationError(f"This key cannot sign NetSuite assertions: {exc}.") from None
    return pem


def admin_form_fields() -> dict[str, forms.Field]:
    return {"private_key_file": forms.FileField(
        required=False, label="Upload private key",
        help_text="Client credentials (M2M) only: the PEM private key of the certificate uploaded to NetSuite "
        "(RSA 2048+ bits for PS256, or EC P-256/384/521). Stored encrypted; leave empty to keep the current key.",
    )}


def clean_admin_form(form, cleaned: dict) -> dict:
    updates: dict = {}
    upload = cleaned.get("private_key_file")
    if upload:
        try:
            pem = read_private_key(upload)
        except ValidationError as exc:
            form.add_error("private_key_file", exc)
        else:
            # A new key invalidates tokens obtained with the old one: the next call asks for a new token.
            updates = {"private_key": pem, "access_token": None, "token_expires_at": None}
    if cleaned.get("auth_mode") == type(form.instance).AuthMode.CLIENT_CREDENTIALS:
        if not cleaned.get("certificate_id"):
            form.add_error("certificate_id", "Enter the Certificate ID NetSuite shows for the uploaded "
                           "certificate (OAuth 2.0 Client Credentials Setup).")
        if not upload and not form.instance.private_key:
            form.add_error("private_key_file", "Upload the certificate's private key.")
    return updates
