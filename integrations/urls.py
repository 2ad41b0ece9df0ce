from django.contrib.auth import views as auth_views
from django.urls import path

from . import account_views, matching_views, views
from .oauth import token_views
from .oauth import views as oauth_views
from .webhooks import routes as webhook_routes

urlpatterns = [
    path("portal/", views.portal_index, name="portal"),
    path("portal/connections/<int:pk>/", views.portal_connection, name="portal-connection"),
    path("portal/connections/<int:pk>/disconnect/", views.portal_disconnect, name="portal-disconnect"),
    path("portal/connections/<int:pk>/status.json", views.portal_connection_status, name="portal-connection-status"),
    path("portal/connections/<int:pk>/sync/", views.portal_sync_now, name="portal-sync-now"),
    path("portal/connections/<int:pk>/resume/", views.portal_resume, name="portal-resume"),
    path("portal/account/", account_views.account, name="portal-account"),
    path("portal/account/tokens/<int:pk>/revoke/", account_views.revoke_token, name="portal-token-revoke"),
    # Password change: Django's own views (templates in templates/registration/). Reset by e-mail lives in
    # accounts/password_reset.py, behind the login guard.
    path("accounts/password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/change/done/", auth_views.PasswordChangeDoneView.as_view(),
         name="password_change_done"),
    path("portal/connections/<int:pk>/matching/", matching_views.matching_list, name="portal-matching"),
    path("portal/connections/<int:pk>/matching/<int:item_id>/", matching_views.matching_pick,
         name="portal-matching-pick"),
    path("portal/connections/<int:pk>/matching/<int:item_id>/resolve/", matching_views.matching_resolve,
         name="portal-matching-resolve"),
    # OAuth (contract): a provider's connect card may add query fields (its descriptor's connect_fields).
    path("integrations/<str:provider_key>/connect/", oauth_views.connect, name="oauth-connect"),
    path("integrations/<str:provider_key>/callback/", oauth_views.callback, name="oauth-callback"),
    # Webhooks (contract): one URL per provider with a receiver, routed from the registry.
    *webhook_routes.urlpatterns,
    # Connect with a pasted personal access token (providers whose descriptor offers token_connect()).
    path("integrations/<str:provider_key>/token/", token_views.token_connect, name="token-connect"),
]
