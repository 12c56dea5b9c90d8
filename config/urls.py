from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from crm_core.reports import views as reports_views

# JSON for API paths, the usual error page elsewhere; never a traceback.
handler500 = "crm_core.common.api.errors.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("config.api_urls")),
    path("accounts/", include("crm_core.accounts.urls")),
    path("customers/", include("crm_core.customers.urls")),
    path("orders/", include("crm_core.orders.urls")),
    path("inspections/", include("crm_core.inspections.urls")),
    path("inventory/", include("crm_core.inventory.urls")),
    path("", reports_views.dashboard, name="dashboard"),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
