"""API for the catalogue and the stock ledger (serializers + viewsets)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db import models
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from crm_core.accounts.models import Branch
from crm_core.common.api.concurrency import IF_MATCH_PARAMETER, expected_version
from crm_core.common.api.fields import ScopedPrimaryKeyRelatedField
from crm_core.common.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from crm_core.common.api.viewsets import ApiViewSet, KeysetViewSet
from crm_core.inventory import services
from crm_core.inventory.models import Category, MovementKind, Product, StockLevel, StockMovement, Unit, Warehouse

# --- Categories -----------------------------------------------------------------------------------


def _categories(user: Any):
    return Category.objects.all()


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ("id", "name", "parent", "is_active", "created_at", "updated_at")
        read_only_fields = fields


class CategoryCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    parent = ScopedPrimaryKeyRelatedField(
        scope=_categories, queryset=Category.objects.all(), required=False, allow_null=True, default=None
    )


class CategoryUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    parent = ScopedPrimaryKeyRelatedField(scope=_categories, queryset=Category.objects.all(), allow_null=True)
    is_active = serializers.BooleanField()


class CategoryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Product categories (a tree through ``parent``); company-wide."""

    queryset = Category.objects.all()
    serializer_class = CategorySerializer
    filterset_fields = ("parent", "is_active")
    ordering_choices = {"name": ("name", "id")}
    default_ordering = "name"

    @extend_schema(request=CategoryCreateSerializer, responses={201: CategorySerializer})
    def create(self, request: Request) -> Response:
        data = self.validated(CategoryCreateSerializer)
        return self.object_response(services.category_create(actor=request.user, **data), status=201)

    @extend_schema(request=CategoryUpdateSerializer, responses=CategorySerializer)
    def update(self, request: Request, pk: Any = None) -> Response:
        return self._update(request, partial=False)

    @extend_schema(request=CategoryUpdateSerializer, responses=CategorySerializer)
    def partial_update(self, request: Request, pk: Any = None) -> Response:
        return self._update(request, partial=True)

    def _update(self, request: Request, *, partial: bool) -> Response:
        category = self.get_object()
        data = self.validated(CategoryUpdateSerializer, partial=partial)
        return self.object_response(services.category_update(actor=request.user, category=category, **data))


# --- Products -------------------------------------------------------------------------------------


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = (
            "id",
            "sku",
            "name",
            "category",
            "unit",
            "price",
            "cost",
            "reorder_level",
            "description",
            "is_active",
            "version",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class ProductCreateSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=200)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    category = ScopedPrimaryKeyRelatedField(
        scope=_categories, queryset=Category.objects.all(), required=False, allow_null=True, default=None
    )
    unit = serializers.ChoiceField(choices=Unit.choices, required=False, default=Unit.PIECE)
    cost = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False, default=0)
    reorder_level = serializers.DecimalField(max_digits=12, decimal_places=3, min_value=0, required=False, default=0)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class ProductUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    category = ScopedPrimaryKeyRelatedField(scope=_categories, queryset=Category.objects.all(), allow_null=True)
    unit = serializers.ChoiceField(choices=Unit.choices)
    cost = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    reorder_level = serializers.DecimalField(max_digits=12, decimal_places=3, min_value=0)
    description = serializers.CharField(max_length=5000, allow_blank=True)
    is_active = serializers.BooleanField()


class ProductFilter(django_filters.FilterSet):
    class Meta:
        model = Product
        fields = ("category", "is_active", "unit")


class ProductViewSet(mixins.ListModelMixin, KeysetViewSet):
    """The catalogue; company-wide. Stock per warehouse is under ``stock-levels``."""

    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    filterset_class = ProductFilter
    search_lookups = ("search_text__contains",)
    ordering_choices = {
        "name": ("name", "id"),
        "-name": ("-name", "-id"),
        "sku": ("sku",),
        "-sku": ("-sku",),
        "-created_at": ("-created_at", "-id"),
    }
    default_ordering = "name"

    def retrieve(self, request: Request, pk: Any = None) -> Response:
        return self.object_response(self.get_object())

    @extend_schema(request=ProductCreateSerializer, responses={201: ProductSerializer})
    def create(self, request: Request) -> Response:
        data = self.validated(ProductCreateSerializer)
        return self.object_response(services.product_create(actor=request.user, **data), status=201)

    @extend_schema(request=ProductUpdateSerializer, responses=ProductSerializer, parameters=[IF_MATCH_PARAMETER])
    def update(self, request: Request, pk: Any = None) -> Response:
        return self._update(request, partial=False)

    @extend_schema(request=ProductUpdateSerializer, responses=ProductSerializer, parameters=[IF_MATCH_PARAMETER])
    def partial_update(self, request: Request, pk: Any = None) -> Response:
        return self._update(request, partial=True)

    def _update(self, request: Request, *, partial: bool) -> Response:
        product = self.get_object()
        version = expected_version(request, product.pk)
        data = self.validated(ProductUpdateSerializer, partial=partial)
        product = services.product_update(actor=request.user, product=product, expected_version=version, **data)
        return self.object_response(product)


# --- Warehouses -----------------------------------------------------------------------------------


def _visible_branches(user: Any):
    return Branch.objects.visible_to(user)


def _visible_warehouses(user: Any):
    return Warehouse.objects.visible_to(user)


def _products(user: Any):
    return Product.objects.all()


class WarehouseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Warehouse
        fields = ("id", "code", "name", "branch", "address", "is_default", "is_active", "created_at", "updated_at")
        read_only_fields = fields


class WarehouseCreateSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=20)
    name = serializers.CharField(max_length=120)
    branch = ScopedPrimaryKeyRelatedField(
        scope=_visible_branches, queryset=Branch.objects.all(), required=False, allow_null=True, default=None
    )
    address = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    is_default = serializers.BooleanField(required=False, default=False)


class WarehouseUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    address = serializers.CharField(max_length=255, allow_blank=True)
    is_default = serializers.BooleanField()
    is_active = serializers.BooleanField()


class WarehouseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Warehouses of the branches the user sees."""

    queryset = Warehouse.objects.all()
    serializer_class = WarehouseSerializer
    filterset_fields = ("branch", "is_active", "is_default")
    ordering_choices = {"name": ("name", "id"), "code": ("code",)}
    default_ordering = "name"

    def get_queryset(self):
        return Warehouse.objects.visible_to(self.request.user)

    @extend_schema(request=WarehouseCreateSerializer, responses={201: WarehouseSerializer})
    def create(self, request: Request) -> Response:
        data = self.validated(WarehouseCreateSerializer)
        return self.object_response(services.warehouse_create(actor=request.user, **data), status=201)

    @extend_schema(request=WarehouseUpdateSerializer, responses=WarehouseSerializer)
    def update(self, request: Request, pk: Any = None) -> Response:
        return self._update(request, partial=False)

    @extend_schema(request=WarehouseUpdateSerializer, responses=WarehouseSerializer)
    def partial_update(self, request: Request, pk: Any = None) -> Response:
        return self._update(request, partial=True)

    def _update(self, request: Request, *, partial: bool) -> Response:
        warehouse = self.get_object()
        data = self.validated(WarehouseUpdateSerializer, partial=partial)
        return self.object_response(services.warehouse_update(actor=request.user, warehouse=warehouse, **data))


# --- Stock levels (read) --------------------------------------------------------------------------


class StockLevelSerializer(serializers.ModelSerializer):
    product_name = serializers.CharField(source="product.name", read_only=True)
    sku = serializers.CharField(source="product.sku", read_only=True)
    unit = serializers.CharField(source="product.unit", read_only=True)
    reorder_level = serializers.DecimalField(
        source="product.reorder_level", max_digits=12, decimal_places=3, read_only=True
    )
    warehouse_name = serializers.CharField(source="warehouse.name", read_only=True)

    class Meta:
        model = StockLevel
        fields = (
            "id",
            "product",
            "product_name",
            "sku",
            "unit",
            "warehouse",
            "warehouse_name",
            "quantity",
            "reorder_level",
            "is_low",
            "updated_at",
        )
        read_only_fields = fields


class StockLevelFilter(django_filters.FilterSet):
    low = django_filters.BooleanFilter(field_name="is_low")

    class Meta:
        model = StockLevel
        fields = ("product", "warehouse")


class StockLevelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, KeysetViewSet):
    """How much of each product each visible warehouse holds ("Inventory"). Read-only: stock
    changes only through ``stock-movements``."""

    queryset = StockLevel.objects.all()
    serializer_class = StockLevelSerializer
    filterset_class = StockLevelFilter
    search_lookups = ("product__search_text__contains",)
    ordering_choices = {"id": ("id",), "-id": ("-id",)}
    default_ordering = "id"

    def get_queryset(self):
        return StockLevel.objects.visible_to(self.request.user).select_related("product", "warehouse")


# --- Stock movements ------------------------------------------------------------------------------


class StockMovementSerializer(serializers.ModelSerializer):
    class Meta:
        model = StockMovement
        fields = (
            "id",
            "kind",
            "product",
            "warehouse",
            "branch",
            "quantity",
            "balance_after",
            "unit_cost",
            "order",
            "transfer_peer",
            "reference",
            "note",
            "actor",
            "created_at",
        )
        read_only_fields = fields


class NewMovementKind(models.TextChoices):
    """What a POST to stock-movements does; a transfer writes two legs."""

    RECEIVE = "receive", _("Receipt")
    ISSUE = "issue", _("Issue")
    ADJUST = "adjust", _("Adjustment")
    TRANSFER = "transfer", _("Transfer")


class MovementCreateSerializer(serializers.Serializer):
    """``kind`` chooses the service: receive, issue, adjust (a count) or transfer."""

    kind = serializers.ChoiceField(choices=NewMovementKind.choices)
    product = ScopedPrimaryKeyRelatedField(scope=_products, queryset=Product.objects.all())
    warehouse = ScopedPrimaryKeyRelatedField(
        scope=_visible_warehouses, queryset=Warehouse.objects.all(), help_text="For a transfer: where it leaves."
    )
    quantity = serializers.DecimalField(
        max_digits=14, decimal_places=3, min_value=0, required=False, help_text="receive, issue, transfer."
    )
    counted_quantity = serializers.DecimalField(
        max_digits=14, decimal_places=3, min_value=0, required=False, help_text="adjust: what the count found."
    )
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, help_text="adjust: why.")
    to_warehouse = ScopedPrimaryKeyRelatedField(
        scope=_visible_warehouses, queryset=Warehouse.objects.all(), required=False, help_text="transfer: where to."
    )
    unit_cost = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True, help_text="receive."
    )
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind = attrs["kind"]
        needed = {
            "receive": ("quantity",),
            "issue": ("quantity",),
            "adjust": ("counted_quantity", "reason"),
            "transfer": ("quantity", "to_warehouse"),
        }[kind]
        missing = {name: [_("Required for a %(kind)s.") % {"kind": kind}] for name in needed if name not in attrs}
        if missing:
            raise serializers.ValidationError(missing)
        return attrs


class StockMovementFilter(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=MovementKind.choices)
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = StockMovement
        fields = ("kind", "product", "warehouse", "order", "branch")


class StockMovementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, KeysetViewSet):
    """The append-only stock ledger, newest first. POST moves stock through the services."""

    queryset = StockMovement.objects.all()
    serializer_class = StockMovementSerializer
    filterset_class = StockMovementFilter
    ordering_choices = {"-created_at": ("-created_at", "-id"), "created_at": ("created_at", "id")}
    default_ordering = "-created_at"
    service_field_names = {"from_warehouse": "warehouse"}

    def get_queryset(self):
        return StockMovement.objects.visible_to(self.request.user)

    @extend_schema(
        request=MovementCreateSerializer,
        responses={201: StockMovementSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        description=(
            "Receive, issue, adjust or transfer stock. Answers the movement written (for a transfer, "
            "the outgoing leg; ``transfer_peer`` is the incoming one). Send an Idempotency-Key."
        ),
    )
    @idempotent
    def create(self, request: Request) -> Response:
        data = self.validated(MovementCreateSerializer)
        actor, product, warehouse = request.user, data["product"], data["warehouse"]
        kind = data["kind"]
        if kind == "receive":
            movement = services.stock_receive(
                actor=actor,
                product=product,
                warehouse=warehouse,
                quantity=data["quantity"],
                unit_cost=data.get("unit_cost"),
                reference=data["reference"],
                note=data["note"],
            )
        elif kind == "issue":
            movement = services.stock_issue(
                actor=actor,
                product=product,
                warehouse=warehouse,
                quantity=data["quantity"],
                reference=data["reference"],
                note=data["note"],
            )
        elif kind == "adjust":
            movement = services.stock_adjust(
                actor=actor,
                product=product,
                warehouse=warehouse,
                counted_quantity=data["counted_quantity"],
                reason=data["reason"],
            )
        else:
            movement, _in_leg = services.stock_transfer(
                actor=actor,
                product=product,
                from_warehouse=warehouse,
                to_warehouse=data["to_warehouse"],
                quantity=data["quantity"],
                note=data["note"],
            )
        return Response(StockMovementSerializer(movement).data, status=201)
