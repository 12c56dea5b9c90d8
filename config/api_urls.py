"""The REST API: /api/v1/ (router of every app's viewsets, auth) and /api/schema/, /api/docs/."""

from __future__ import annotations

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from crm_core.accounts.api import BranchViewSet, DepartmentViewSet, NotificationViewSet, UserViewSet
from crm_core.common.api import auth
from crm_core.common.api.docs import ApiDocsView
from crm_core.common.api.errors import not_found
from crm_core.customers.api import CustomerCategoryViewSet, CustomerViewSet
from crm_core.inspections.api import InspectionViewSet
from crm_core.inventory.api import (
    CategoryViewSet,
    ProductViewSet,
    StockLevelViewSet,
    StockMovementViewSet,
    WarehouseViewSet,
)
from crm_core.orders.api import OrderItemViewSet, OrderViewSet


class Router(DefaultRouter):
    include_root_view = False
    include_format_suffixes = False


router = Router()
router.register("customers", CustomerViewSet, basename="customer")
router.register("customer-categories", CustomerCategoryViewSet, basename="customer-category")
router.register("orders", OrderViewSet, basename="order")
router.register(r"orders/(?P<order_pk>\d+)/items", OrderItemViewSet, basename="order-item")
router.register("inspections", InspectionViewSet, basename="inspection")
router.register("products", ProductViewSet, basename="product")
router.register("categories", CategoryViewSet, basename="category")
router.register("warehouses", WarehouseViewSet, basename="warehouse")
router.register("stock-levels", StockLevelViewSet, basename="stock-level")
router.register("stock-movements", StockMovementViewSet, basename="stock-movement")
router.register("users", UserViewSet, basename="user")
router.register("branches", BranchViewSet, basename="branch")
router.register("departments", DepartmentViewSet, basename="department")
router.register("notifications", NotificationViewSet, basename="notification")

v1 = [
    path("auth/token/", auth.TokenObtainPairView.as_view(), name="token_obtain"),
    path("auth/token/refresh/", auth.TokenRefreshView.as_view(), name="token_refresh"),
    path("auth/token/verify/", auth.TokenVerifyView.as_view(), name="token_verify"),
    path("auth/token/blacklist/", auth.TokenBlacklistView.as_view(), name="token_blacklist"),
    path("auth/ws-ticket/", auth.WsTicketView.as_view(), name="ws_ticket"),
    path("", include(router.urls)),
    # Anything else under /api/v1/ is the API's JSON 404, not the site's HTML page.
    re_path(r"^.*$", not_found),
]

app_name = "api"

urlpatterns = [
    path("v1/", include((v1, "v1"))),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", ApiDocsView.as_view(url_name="api:schema"), name="docs"),
]
