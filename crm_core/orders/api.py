"""API for orders: items, payments, shipping, status history and transitions (serializers + viewsets)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from crm_core.accounts.models import User
from crm_core.common.api import fields as api_fields
from crm_core.common.api.concurrency import IF_MATCH_PARAMETER, expected_version, set_etag
from crm_core.common.api.fields import ScopedPrimaryKeyRelatedField
from crm_core.common.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from crm_core.common.api.viewsets import ApiViewSet, KeysetViewSet
from crm_core.customers.models import Customer
from crm_core.inspections.models import Inspection
from crm_core.inventory.models import Product, Warehouse
from crm_core.orders import services
from crm_core.orders.models import (
    Order,
    OrderItem,
    OrderStatus,
    OrderStatusChange,
    Payment,
    PaymentMethod,
    ShippingDetails,
    ShippingMethod,
)

# --- Serializers ----------------------------------------------------------------------------------


class OrderItemSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)

    class Meta:
        model = OrderItem
        fields = (
            "id",
            "order",
            "product",
            "sku",
            "description",
            "quantity",
            "unit_price",
            "discount_percent",
            "line_total",
        )
        read_only_fields = fields


class ShippingSerializer(serializers.ModelSerializer):
    class Meta:
        model = ShippingDetails
        fields = (
            "method",
            "recipient_name",
            "phone",
            "city",
            "address",
            "scheduled_date",
            "carrier",
            "tracking_number",
            "cost",
            "notes",
            "updated_at",
        )
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    allowed_transitions = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = (
            "id",
            "number",
            "branch",
            "customer",
            "customer_name",
            "salesperson",
            "warehouse",
            "status",
            "allowed_transitions",
            "order_date",
            "subtotal",
            "discount_amount",
            "tax_rate",
            "tax_amount",
            "total",
            "amount_paid",
            "balance",
            "currency",
            "notes",
            "version",
            "status_changed_at",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_allowed_transitions(self, order: Order) -> list[str]:
        return [str(status) for status in order.allowed_transitions()]


class OrderDetailSerializer(OrderSerializer):
    items = OrderItemSerializer(many=True, read_only=True)
    shipping = serializers.SerializerMethodField()

    class Meta(OrderSerializer.Meta):
        fields = (*OrderSerializer.Meta.fields, "items", "shipping")
        read_only_fields = fields

    @extend_schema_field(ShippingSerializer(allow_null=True))
    def get_shipping(self, order: Order) -> dict[str, Any] | None:
        try:
            shipping = order.shipping
        except ShippingDetails.DoesNotExist:
            return None
        return ShippingSerializer(shipping).data


def _visible_customers(user: Any):
    return Customer.objects.visible_to(user)


def _products(user: Any):
    return Product.objects.all()


def _visible_warehouses(user: Any):
    return Warehouse.objects.visible_to(user)


def _visible_users(user: Any):
    return User.objects.visible_to(user)


def _visible_inspections(user: Any):
    return Inspection.objects.visible_to(user)


class ItemInputSerializer(serializers.Serializer):
    product = ScopedPrimaryKeyRelatedField(scope=_products, queryset=Product.objects.all())
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3, min_value=0)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False)
    discount_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False
    )

    def to_item(self, data: dict[str, Any]) -> services.ItemInput:
        return services.ItemInput(
            product_id=data["product"].pk,
            quantity=data["quantity"],
            unit_price=data.get("unit_price"),
            discount_percent=data.get("discount_percent"),
        )


class OrderCreateSerializer(serializers.Serializer):
    customer = ScopedPrimaryKeyRelatedField(scope=_visible_customers, queryset=Customer.objects.all())
    items = ItemInputSerializer(many=True, allow_empty=False, max_length=200)
    discount_amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    salesperson = ScopedPrimaryKeyRelatedField(
        scope=_visible_users, queryset=User.objects.all(), required=False, allow_null=True
    )
    warehouse = ScopedPrimaryKeyRelatedField(
        scope=_visible_warehouses, queryset=Warehouse.objects.all(), required=False, allow_null=True
    )
    order_date = api_fields.DateField(required=False)
    inspection = ScopedPrimaryKeyRelatedField(
        scope=_visible_inspections,
        queryset=Inspection.objects.all(),
        required=False,
        allow_null=True,
        help_text="Create the order from this inspection (same customer); links them.",
    )


class OrderUpdateSerializer(serializers.Serializer):
    discount_amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    notes = serializers.CharField(allow_blank=True, max_length=5000)
    salesperson = ScopedPrimaryKeyRelatedField(scope=_visible_users, queryset=User.objects.all(), allow_null=True)
    warehouse = ScopedPrimaryKeyRelatedField(scope=_visible_warehouses, queryset=Warehouse.objects.all())
    order_date = api_fields.DateField()


class TransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=OrderStatus.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")


class PaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = ("id", "order", "amount", "method", "reference", "note", "received_by", "received_at", "created_at")
        read_only_fields = fields


class PaymentCreateSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    method = serializers.ChoiceField(choices=PaymentMethod.choices, required=False, default=PaymentMethod.CASH)
    reference = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    note = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")
    received_at = api_fields.DateTimeField(required=False, allow_null=True, default=None)


class ShippingWriteSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=ShippingMethod.choices)
    recipient_name = serializers.CharField(max_length=200)
    phone = serializers.CharField(max_length=32)
    city = serializers.CharField(max_length=80, required=False, allow_blank=True)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)
    scheduled_date = api_fields.DateField(required=False, allow_null=True)
    carrier = serializers.CharField(max_length=100, required=False, allow_blank=True)
    tracking_number = serializers.CharField(max_length=100, required=False, allow_blank=True)
    cost = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False)
    notes = serializers.CharField(max_length=255, required=False, allow_blank=True)


class StatusChangeSerializer(serializers.ModelSerializer):
    changed_by_name = serializers.SerializerMethodField()
    from_status = serializers.CharField(read_only=True, help_text="Empty for the order's first entry.")

    class Meta:
        model = OrderStatusChange
        fields = ("id", "from_status", "to_status", "changed_by", "changed_by_name", "changed_at", "note")
        read_only_fields = fields

    def get_changed_by_name(self, change: OrderStatusChange) -> str:
        return str(change.changed_by) if change.changed_by_id else ""


class ItemCreateSerializer(ItemInputSerializer):
    pass


class ItemUpdateSerializer(serializers.Serializer):
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3, min_value=0, required=False)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False)
    discount_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False
    )


# --- Orders ---------------------------------------------------------------------------------------


class OrderFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=OrderStatus.choices)
    date_from = django_filters.DateFilter(field_name="order_date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="order_date", lookup_expr="lte")
    balance_due = django_filters.BooleanFilter(method="filter_balance_due")

    class Meta:
        model = Order
        fields = ("status", "customer", "branch", "salesperson", "warehouse")

    def filter_balance_due(self, queryset, name, value):
        due = Order.objects.with_balance_due()
        return queryset.filter(pk__in=due.values("pk")) if value else queryset.exclude(pk__in=due.values("pk"))


class OrderViewSet(mixins.ListModelMixin, KeysetViewSet):
    """Orders of the branches the user sees; every change goes through the order services."""

    queryset = Order.objects.all()
    serializer_class = OrderSerializer
    filterset_class = OrderFilter
    search_lookups = ("number__icontains", "customer__search_text__contains")
    ordering_choices = {
        "-created_at": ("-created_at", "-id"),
        "created_at": ("created_at", "id"),
        "-order_date": ("-order_date", "-id"),
        "order_date": ("order_date", "id"),
    }
    default_ordering = "-created_at"
    service_field_names = {"to_status": "to"}
    action_permissions = {
        "transition": ["orders.transition_order"],
        "payments:GET": ["orders.view_payment"],
        "payments:POST": ["orders.add_payment"],
        "shipping:GET": ["orders.view_shippingdetails"],
        "shipping:PUT": ["orders.change_shippingdetails"],
        "status_history": ["orders.view_orderstatuschange"],
    }

    def get_queryset(self):
        return Order.objects.visible_to(self.request.user).select_related("customer")

    def get_serializer_class(self):
        return OrderDetailSerializer if self.action == "retrieve" else OrderSerializer

    def _detail(self, pk: Any, *, status: int = 200) -> Response:
        order = (
            Order.objects.visible_to(self.request.user)
            .select_related("customer", "shipping")
            .prefetch_related("items__product")
            .get(pk=pk)
        )
        return self.object_response(order, status=status, serializer_class=OrderDetailSerializer)

    def retrieve(self, request: Request, pk: Any = None) -> Response:
        return self._detail(self.get_object().pk)

    @extend_schema(request=OrderCreateSerializer, responses={201: OrderDetailSerializer})
    def create(self, request: Request) -> Response:
        data = self.validated(OrderCreateSerializer)
        items = [ItemInputSerializer().to_item(item) for item in data.pop("items")]
        for key in ("salesperson", "warehouse", "inspection"):
            if data.get(key) is None:
                data.pop(key, None)
        order = services.order_create(actor=request.user, items=items, **data)
        return self._detail(order.pk, status=201)

    @extend_schema(request=OrderUpdateSerializer, responses=OrderDetailSerializer, parameters=[IF_MATCH_PARAMETER])
    def update(self, request: Request, pk: Any = None) -> Response:
        return self._update(request, partial=False)

    @extend_schema(request=OrderUpdateSerializer, responses=OrderDetailSerializer, parameters=[IF_MATCH_PARAMETER])
    def partial_update(self, request: Request, pk: Any = None) -> Response:
        return self._update(request, partial=True)

    def _update(self, request: Request, *, partial: bool) -> Response:
        order = self.get_object()
        version = expected_version(request, order.pk)
        data = self.validated(OrderUpdateSerializer, partial=partial)
        services.order_update(actor=request.user, order=order, expected_version=version, **data)
        return self._detail(order.pk)

    @extend_schema(request=TransitionSerializer, responses=OrderDetailSerializer, parameters=[IF_MATCH_PARAMETER])
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: Any = None) -> Response:
        """Move the order to its next status (``allowed_transitions``); shipping issues its stock."""
        order = self.get_object()
        version = expected_version(request, order.pk)
        data = self.validated(TransitionSerializer)
        services.order_transition(
            actor=request.user, order=order, to_status=data["to"], note=data["note"], expected_version=version
        )
        return self._detail(order.pk)

    @extend_schema(methods=["GET"], request=None, responses=PaymentSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        request=PaymentCreateSerializer,
        responses={201: PaymentSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=())
    def payments(self, request: Request, pk: Any = None) -> Response:
        """The order's payments; POST records one (never more than the total; send an Idempotency-Key)."""
        order = self.get_object()
        if request.method == "POST":
            return self._record_payment(request, order)
        payments = Payment.objects.filter(order=order).order_by("-received_at", "-id")
        return Response(PaymentSerializer(payments, many=True).data)

    @idempotent
    def _record_payment(self, request: Request, order: Order) -> Response:
        data = self.validated(PaymentCreateSerializer)
        payment = services.payment_record(actor=request.user, order=order, **data)
        return Response(PaymentSerializer(payment).data, status=201)

    @extend_schema(methods=["GET"], request=None, responses=ShippingSerializer)
    @extend_schema(
        methods=["PUT"], request=ShippingWriteSerializer, responses=ShippingSerializer, parameters=[IF_MATCH_PARAMETER]
    )
    @action(detail=True, methods=["get", "put"], pagination_class=None, filter_backends=())
    def shipping(self, request: Request, pk: Any = None) -> Response:
        """How and where the order is delivered; PUT sets it (and the shipping cost in the total)."""
        order = self.get_object()
        if request.method == "PUT":
            version = expected_version(request, order.pk)
            data = self.validated(ShippingWriteSerializer)
            shipping = services.order_set_shipping(actor=request.user, order=order, expected_version=version, **data)
            response = Response(ShippingSerializer(shipping).data)
            return set_etag(response, Order.objects.only("pk", "version").get(pk=order.pk))
        shipping = ShippingDetails.objects.filter(order=order).first()
        if shipping is None:
            raise NotFound(_("This order has no shipping details yet."))
        return Response(ShippingSerializer(shipping).data)

    @extend_schema(request=None, responses=StatusChangeSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="status-history", pagination_class=None, filter_backends=())
    def status_history(self, request: Request, pk: Any = None) -> Response:
        """Every status the order went through: who, when, with what note."""
        order = self.get_object()
        changes = (
            OrderStatusChange.objects.filter(order=order).select_related("changed_by").order_by("changed_at", "id")
        )
        return Response(StatusChangeSerializer(changes, many=True).data)


# --- Items (nested: /orders/{order_pk}/items/) ---------------------------------------------------

_ORDER_PK = OpenApiParameter("order_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The order's id.")


@extend_schema_view(
    list=extend_schema(parameters=[_ORDER_PK]),
    retrieve=extend_schema(parameters=[_ORDER_PK]),
    create=extend_schema(
        parameters=[_ORDER_PK, IF_MATCH_PARAMETER], request=ItemCreateSerializer, responses={201: OrderItemSerializer}
    ),
    partial_update=extend_schema(
        parameters=[_ORDER_PK, IF_MATCH_PARAMETER], request=ItemUpdateSerializer, responses=OrderItemSerializer
    ),
    destroy=extend_schema(parameters=[_ORDER_PK, IF_MATCH_PARAMETER], responses={204: None}),
)
class OrderItemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """The lines of an order. ``If-Match`` names the *order's* ETag: items change the order's totals."""

    queryset = OrderItem.objects.all()
    serializer_class = OrderItemSerializer
    pagination_class = None
    filter_backends = ()
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_order(self) -> Order:
        return Order.objects.visible_to(self.request.user).get(pk=self.kwargs["order_pk"])

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return OrderItem.objects.none()
        return OrderItem.objects.filter(order=self.get_order()).select_related("product").order_by("id")

    def _respond(self, item: OrderItem, *, status: int = 200) -> Response:
        item = OrderItem.objects.select_related("product", "order").get(pk=item.pk)
        return set_etag(Response(OrderItemSerializer(item).data, status=status), item.order)

    def create(self, request: Request, order_pk: Any = None) -> Response:
        order = self.get_order()
        version = expected_version(request, order.pk)
        data = self.validated(ItemCreateSerializer)
        item = services.order_item_add(
            actor=request.user, order=order, item=ItemInputSerializer().to_item(data), expected_version=version
        )
        return self._respond(item, status=201)

    def partial_update(self, request: Request, order_pk: Any = None, pk: Any = None) -> Response:
        item = self.get_object()
        version = expected_version(request, item.order_id)
        data = self.validated(ItemUpdateSerializer, partial=True)
        item = services.order_item_update(actor=request.user, item=item, expected_version=version, **data)
        return self._respond(item)

    def destroy(self, request: Request, order_pk: Any = None, pk: Any = None) -> Response:
        item = self.get_object()
        version = expected_version(request, item.order_id)
        order = services.order_item_remove(actor=request.user, item=item, expected_version=version)
        return set_etag(Response(status=204), order)
