from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

# The schema and its docs are public (they describe, they hold no data), so a browser can load Swagger UI
# and then authorize with a token.
public = {"authentication_classes": [], "permission_classes": [AllowAny]}

urlpatterns = [
    path("api/schema/", SpectacularAPIView.as_view(**public), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema", **public), name="api-docs"),
]
