"""API for customers, their notes and categories (serializers + viewsets)."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from crm_core.accounts.models import Branch
from crm_core.common.api.concurrency import IF_MATCH_PARAMETER, expected_version
from crm_core.common.api.fields import ScopedPrimaryKeyRelatedField
from crm_core.common.api.viewsets import ApiViewSet, KeysetViewSet
from crm_core.customers import services
from crm_core.customers.models import Customer, CustomerCategory, CustomerKind, CustomerNote, CustomerStatus

# --- Categories -----------------------------------------------------------------------------------


class CustomerCategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomerCategory
        fields = ("id", "name", "discount_percent", "description", "is_active", "created_at", "updated_at")
        read_only_fields = fields


class CustomerCategoryCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    discount_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False, default=0
    )
    description = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class CustomerCategoryUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    discount_percent = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100)
    description = serializers.CharField(max_length=255, allow_blank=True)
    is_active = serializers.BooleanField()


class CustomerCategoryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Price and service tiers; company-wide."""

    queryset = CustomerCategory.objects.all()
    serializer_class = CustomerCategorySerializer
    filterset_fields = ("is_active",)
    ordering_choices = {"name": ("name",)}
    default_ordering = "name"

    @extend_schema(request=CustomerCategoryCreateSerializer, responses={201: CustomerCategorySerializer})
    def create(self, request: Request) -> Response:
        data = self.validated(CustomerCategoryCreateSerializer)
        return self.object_response(services.customer_category_create(actor=request.user, **data), status=201)

    @extend_schema(request=CustomerCategoryUpdateSerializer, responses=CustomerCategorySerializer)
    def update(self, request: Request, pk: Any = None) -> Response:
        return self._update(request, partial=False)

    @extend_schema(request=CustomerCategoryUpdateSerializer, responses=CustomerCategorySerializer)
    def partial_update(self, request: Request, pk: Any = None) -> Response:
        return self._update(request, partial=True)

    def _update(self, request: Request, *, partial: bool) -> Response:
        category = self.get_object()
        data = self.validated(CustomerCategoryUpdateSerializer, partial=partial)
        category = services.customer_category_update(actor=request.user, category=category, **data)
        return self.object_response(category)


# --- Customers ------------------------------------------------------------------------------------


class CustomerSerializer(serializers.ModelSerializer):
    category_name = serializers.CharField(source="category.name", read_only=True, allow_null=True, default=None)
    email = serializers.CharField(read_only=True, help_text="May be empty.")

    class Meta:
        model = Customer
        fields = (
            "id",
            "code",
            "branch",
            "category",
            "category_name",
            "kind",
            "status",
            "name",
            "phone",
            "alt_phone",
            "email",
            "city",
            "address",
            "tax_number",
            "version",
            "created_by",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


def _visible_branches(user: Any):
    return Branch.objects.visible_to(user)


def _categories(user: Any):
    return CustomerCategory.objects.all()


class CustomerWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    phone = serializers.CharField(max_length=32)
    kind = serializers.ChoiceField(choices=CustomerKind.choices, required=False)
    status = serializers.ChoiceField(choices=CustomerStatus.choices, required=False)
    category = ScopedPrimaryKeyRelatedField(
        scope=_categories, queryset=CustomerCategory.objects.all(), required=False, allow_null=True
    )
    alt_phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    city = serializers.CharField(max_length=80, required=False, allow_blank=True)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)
    tax_number = serializers.CharField(max_length=40, required=False, allow_blank=True)


class CustomerCreateSerializer(CustomerWriteSerializer):
    branch = ScopedPrimaryKeyRelatedField(
        scope=_visible_branches,
        queryset=Branch.objects.all(),
        required=False,
        allow_null=True,
        help_text="Only for users who see every branch; others create in their own branch.",
    )


class CustomerNoteSerializer(serializers.ModelSerializer):
    author_name = serializers.SerializerMethodField()

    class Meta:
        model = CustomerNote
        fields = ("id", "customer", "author", "author_name", "body", "created_at")
        read_only_fields = fields

    def get_author_name(self, note: CustomerNote) -> str:
        return str(note.author) if note.author_id else ""


class CustomerNoteCreateSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=5000)


class CustomerFilter(django_filters.FilterSet):
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Customer
        fields = ("status", "kind", "category", "branch", "city")


class CustomerViewSet(mixins.ListModelMixin, KeysetViewSet):
    """Customers of the branches the user sees (inspectors: the customers of their visits)."""

    queryset = Customer.objects.all()
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    search_lookups = ("search_text__contains",)
    ordering_choices = {
        "-created_at": ("-created_at", "-id"),
        "created_at": ("created_at", "id"),
        "name": ("name", "id"),
        "-name": ("-name", "-id"),
    }
    default_ordering = "-created_at"
    action_permissions = {
        "notes:GET": ["customers.view_customernote"],
        "notes:POST": ["customers.add_customernote"],
    }

    def get_queryset(self):
        return Customer.objects.visible_to(self.request.user).select_related("category")

    def retrieve(self, request: Request, pk: Any = None) -> Response:
        return self.object_response(self.get_object())

    @extend_schema(request=CustomerCreateSerializer, responses={201: CustomerSerializer})
    def create(self, request: Request) -> Response:
        data = self.validated(CustomerCreateSerializer)
        customer = services.customer_create(actor=request.user, **data)
        return self.object_response(customer, status=201)

    @extend_schema(request=CustomerWriteSerializer, responses=CustomerSerializer, parameters=[IF_MATCH_PARAMETER])
    def update(self, request: Request, pk: Any = None) -> Response:
        return self._update(request, partial=False)

    @extend_schema(request=CustomerWriteSerializer, responses=CustomerSerializer, parameters=[IF_MATCH_PARAMETER])
    def partial_update(self, request: Request, pk: Any = None) -> Response:
        return self._update(request, partial=True)

    def _update(self, request: Request, *, partial: bool) -> Response:
        customer = self.get_object()
        version = expected_version(request, customer.pk)
        data = self.validated(CustomerWriteSerializer, partial=partial)
        customer = services.customer_update(actor=request.user, customer=customer, expected_version=version, **data)
        return self.object_response(Customer.objects.select_related("category").get(pk=customer.pk))

    @extend_schema(methods=["GET"], request=None, responses=CustomerNoteSerializer(many=True))
    @extend_schema(methods=["POST"], request=CustomerNoteCreateSerializer, responses={201: CustomerNoteSerializer})
    @action(
        detail=True,
        methods=["get", "post"],
        filter_backends=(),
        ordering_choices={"-created_at": ("-created_at", "-id")},
        default_ordering="-created_at",
    )
    def notes(self, request: Request, pk: Any = None) -> Response:
        """The customer's notes, newest first; POST adds one."""
        customer = self.get_object()
        if request.method == "POST":
            data = self.validated(CustomerNoteCreateSerializer)
            note = services.customer_add_note(actor=request.user, customer=customer, body=data["body"])
            return Response(CustomerNoteSerializer(note).data, status=201)
        notes = CustomerNote.objects.filter(customer=customer).select_related("author")
        page = self.paginate_queryset(notes)
        return self.get_paginated_response(CustomerNoteSerializer(page, many=True).data)
