from django.urls import path

from crm_core.inventory import views

app_name = "inventory"

urlpatterns = [
    path("", views.stock, name="stock"),
    path("alerts/", views.stock_alerts, name="alerts"),
    path("alerts/panel/", views.stock_alerts_panel, name="alerts_panel"),
    path("products/", views.product_list, name="products"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/lookup/", views.product_lookup, name="product_lookup"),
    path("products/<int:pk>/", views.product_detail, name="product_detail"),
    path("products/<int:pk>/edit/", views.product_edit, name="product_edit"),
    path("categories/", views.category_list, name="categories"),
    path("categories/new/", views.category_create, name="category_create"),
    path("categories/<int:pk>/edit/", views.category_edit, name="category_edit"),
    path("warehouses/", views.warehouse_list, name="warehouses"),
    path("warehouses/new/", views.warehouse_create, name="warehouse_create"),
    path("warehouses/<int:pk>/edit/", views.warehouse_edit, name="warehouse_edit"),
    path("movements/", views.movement_list, name="movements"),
    path("receive/", views.stock_receive, name="receive"),
    path("issue/", views.stock_issue, name="issue"),
    path("adjust/", views.stock_adjust, name="adjust"),
    path("transfer/", views.stock_transfer, name="transfer"),
]
