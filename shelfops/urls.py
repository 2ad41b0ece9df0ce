from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from accounts.views import two_factor
from audit.views import recent_activity
from integrations.console.views import metrics

from . import health

urlpatterns = [
    path("", RedirectView.as_view(url="/portal/", permanent=False)),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/two-factor/", two_factor, name="two-factor"),
    path("", include("accounts.password_reset")),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("portal/activity/", recent_activity, name="portal-activity"),
    path("", include("integrations.urls")),
    path("", include("inventory.api.urls")),
    path("", include("shelfops.api_urls")),
]

# Database or Redis outages raised outside a view answer 503 + Retry-After, not Django's 500 page.
handler500 = "shelfops.outage.server_error"
