"""The connection form in admin: staff upload a client-credentials (M2M) private key here. The key is write-only:
it is validated, stored encrypted (``Connection.private_key``) and never shown back (the page says "set")."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from integrations.models import Connection

MAX_KEY_BYTES = 16 * 1024


class ConnectionForm(forms.ModelForm):
    private_key_file = forms.FileField(
        required=False, label="Upload private key",
        help_text="Client credentials (M2M) only: the PEM private key of the certificate uploaded to NetSuite "
        "(RSA 2048+ bits for PS256, or EC P-256/384/521). Stored encrypted; leave empty to keep the current key.",
    )

    class Meta:
        model = Connection
        # Admin narrows these to its fieldsets; secrets are never form fields (the key comes in as an upload).
        fields = ["retailer", "provider", "external_account_id", "display_name", "status", "problem", "auth_mode",
                  "scopes", "certificate_id", "settings"]

    def clean_private_key_file(self) -> str | None:
        upload = self.cleaned_data.get("private_key_file")
        if not upload:
            return None
        from integrations.providers.netsuite.m2m import PrivateKeyError, load_signing_key

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

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("auth_mode") == Connection.AuthMode.CLIENT_CREDENTIALS:
            if cleaned.get("provider") != "netsuite":
                self.add_error("auth_mode", "Client credentials (M2M) connections exist for NetSuite only.")
            if not cleaned.get("certificate_id"):
                self.add_error("certificate_id", "Enter the Certificate ID NetSuite shows for the uploaded "
                               "certificate (OAuth 2.0 Client Credentials Setup).")
            if not cleaned.get("private_key_file") and not self.instance.private_key:
                self.add_error("private_key_file", "Upload the certificate's private key.")
        return cleaned

    def save(self, commit=True):
        pem = self.cleaned_data.get("private_key_file")
        if pem:
            self.instance.private_key = pem
            # A new key invalidates tokens obtained with the old one: the next call asks for a new token.
            self.instance.access_token = None
            self.instance.token_expires_at = None
        return super().save(commit)
