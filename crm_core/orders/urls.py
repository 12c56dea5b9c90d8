from django.urls import path

from crm_core.orders import views

app_name = "orders"

urlpatterns = [
    path("", views.order_list, name="list"),
    path("new/", views.order_create, name="create"),
    path("board/", views.order_board, name="board"),
    path("lookup/products/", views.product_lookup, name="product_lookup"),
    path("lookup/customers/", views.customer_lookup, name="customer_lookup"),
    path("<int:pk>/", views.order_detail, name="detail"),
    path("<int:pk>/edit/", views.order_edit, name="edit"),
    path("<int:pk>/status/", views.order_transition_view, name="transition"),
    path("<int:pk>/move/", views.order_board_move, name="board_move"),
    path("<int:pk>/payments/", views.order_add_payment, name="add_payment"),
    path("<int:pk>/shipping/", views.order_shipping, name="shipping"),
]
