"""API for users, branches, departments and notifications (serializers + viewsets)."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from crm_core.accounts import services
from crm_core.accounts.models import Branch, Department, Notification, NotificationKind, Role, User
from crm_core.common.api.fields import ScopedPrimaryKeyRelatedField
from crm_core.common.api.pagination import CursorPagination
from crm_core.common.api.permissions import IsActiveUser
from crm_core.common.api.viewsets import ApiViewSet

LANGUAGES = User._meta.get_field("language").choices

# --- Branches -------------------------------------------------------------------------------------


class BranchSerializer(serializers.ModelSerializer):
    class Meta:
        model = Branch
        fields = ("id", "code", "name", "address", "phone", "is_active", "created_at", "updated_at")
        read_only_fields = fields


class BranchCreateSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=10)
    name = serializers.CharField(max_length=120)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")


class BranchUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    address = serializers.CharField(max_length=255, allow_blank=True)
    phone = serializers.CharField(max_length=32, allow_blank=True)
    is_active = serializers.BooleanField()


class BranchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Branches the user may see: their own, or all for head-office users."""

    queryset = Branch.objects.all()
    serializer_class = BranchSerializer
    filterset_fields = ("is_active",)
    ordering_choices = {"name": ("name", "id"), "code": ("code",)}
    default_ordering = "name"

    def get_queryset(self):
        return Branch.objects.visible_to(self.request.user)

    @extend_schema(request=BranchCreateSerializer, responses={201: BranchSerializer})
    def create(self, request: Request) -> Response:
        data = self.validated(BranchCreateSerializer)
        branch = services.branch_create(actor=request.user, **data)
        return self.object_response(branch, status=201)

    @extend_schema(request=BranchUpdateSerializer, responses=BranchSerializer)
    def update(self, request: Request, pk: Any = None) -> Response:
        return self._update(request, partial=False)

    @extend_schema(request=BranchUpdateSerializer, responses=BranchSerializer)
    def partial_update(self, request: Request, pk: Any = None) -> Response:
        return self._update(request, partial=True)

    def _update(self, request: Request, *, partial: bool) -> Response:
        branch = self.get_object()
        data = self.validated(BranchUpdateSerializer, partial=partial)
        branch = services.branch_update(actor=request.user, branch=branch, **data)
        return self.object_response(branch)


# --- Departments ----------------------------------------------------------------------------------


class DepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ("id", "code", "name", "is_active", "created_at", "updated_at")
        read_only_fields = fields


class DepartmentCreateSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=20)
    name = serializers.CharField(max_length=120)


class DepartmentUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    is_active = serializers.BooleanField()


class DepartmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Departments are company-wide."""

    queryset = Department.objects.all()
    serializer_class = DepartmentSerializer
    filterset_fields = ("is_active",)
    ordering_choices = {"name": ("name", "id"), "code": ("code",)}
    default_ordering = "name"

    @extend_schema(request=DepartmentCreateSerializer, responses={201: DepartmentSerializer})
    def create(self, request: Request) -> Response:
        data = self.validated(DepartmentCreateSerializer)
        return self.object_response(services.department_create(actor=request.user, **data), status=201)

    @extend_schema(request=DepartmentUpdateSerializer, responses=DepartmentSerializer)
    def update(self, request: Request, pk: Any = None) -> Response:
        return self._update(request, partial=False)

    @extend_schema(request=DepartmentUpdateSerializer, responses=DepartmentSerializer)
    def partial_update(self, request: Request, pk: Any = None) -> Response:
        return self._update(request, partial=True)

    def _update(self, request: Request, *, partial: bool) -> Response:
        department = self.get_object()
        data = self.validated(DepartmentUpdateSerializer, partial=partial)
        department = services.department_update(actor=request.user, department=department, **data)
        return self.object_response(department)


# --- Users ----------------------------------------------------------------------------------------


def _visible_branches(user: Any):
    return Branch.objects.visible_to(user)


def _departments(user: Any):
    return Department.objects.all()


class UserSerializer(serializers.ModelSerializer):
    full_name = serializers.SerializerMethodField()
    email = serializers.CharField(read_only=True, help_text="May be empty.")

    class Meta:
        model = User
        fields = (
            "id",
            "username",
            "first_name",
            "last_name",
            "full_name",
            "email",
            "phone",
            "role",
            "branch",
            "department",
            "all_branches",
            "is_active",
            "language",
            "last_login",
            "date_joined",
        )
        read_only_fields = fields

    def get_full_name(self, user: User) -> str:
        return str(user)


class MeSerializer(UserSerializer):
    permissions = serializers.SerializerMethodField()

    class Meta(UserSerializer.Meta):
        fields = (*UserSerializer.Meta.fields, "permissions")
        read_only_fields = fields

    def get_permissions(self, user: User) -> list[str]:
        """What the user's role may do, e.g. ``orders.transition_order``: a client shows only those actions."""
        return sorted(user.get_all_permissions())


class MeUpdateSerializer(serializers.Serializer):
    language = serializers.ChoiceField(choices=LANGUAGES)


class UserCreateSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(write_only=True, max_length=128, style={"input_type": "password"})
    role = serializers.ChoiceField(choices=Role.choices)
    branch = ScopedPrimaryKeyRelatedField(scope=_visible_branches, queryset=Branch.objects.all(), allow_null=True)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    department = ScopedPrimaryKeyRelatedField(
        scope=_departments, queryset=Department.objects.all(), required=False, allow_null=True, default=None
    )
    all_branches = serializers.BooleanField(required=False, default=False)
    language = serializers.ChoiceField(choices=LANGUAGES, required=False, default="ar")


class UserUpdateSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=150, allow_blank=True)
    last_name = serializers.CharField(max_length=150, allow_blank=True)
    email = serializers.EmailField(allow_blank=True)
    phone = serializers.CharField(max_length=32, allow_blank=True)
    role = serializers.ChoiceField(choices=Role.choices)
    branch = ScopedPrimaryKeyRelatedField(scope=_visible_branches, queryset=Branch.objects.all(), allow_null=True)
    department = ScopedPrimaryKeyRelatedField(scope=_departments, queryset=Department.objects.all(), allow_null=True)
    all_branches = serializers.BooleanField()
    is_active = serializers.BooleanField()
    language = serializers.ChoiceField(choices=LANGUAGES)


class PasswordSerializer(serializers.Serializer):
    password = serializers.CharField(write_only=True, max_length=128, style={"input_type": "password"})


class UserFilter(django_filters.FilterSet):
    class Meta:
        model = User
        fields = ("role", "branch", "department", "is_active")


class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """People of the branches the user sees. ``/users/me/`` is everyone's own profile; the rest is
    user administration, for the administrator role alone (the permission of the web pages'
    user administration, ``accounts.change_user``, even to read). A dispatcher picks inspectors
    from ``/inspections/inspectors/`` instead."""

    queryset = User.objects.all()
    serializer_class = UserSerializer
    filterset_class = UserFilter
    search_lookups = ("username__icontains", "first_name__icontains", "last_name__icontains")
    ordering_choices = {"username": ("username",), "-date_joined": ("-date_joined", "-id")}
    default_ordering = "username"
    action_permissions = {
        "me": [],
        "list": ["accounts.change_user"],
        "retrieve": ["accounts.change_user"],
        "set_password": ["accounts.change_user"],
    }

    def get_queryset(self):
        return User.objects.visible_to(self.request.user)

    def get_permissions(self):
        if self.action == "me":
            return [IsActiveUser()]
        return super().get_permissions()

    @extend_schema(request=UserCreateSerializer, responses={201: UserSerializer})
    def create(self, request: Request) -> Response:
        data = self.validated(UserCreateSerializer)
        user = services.user_create(actor=request.user, **data)
        return self.object_response(user, status=201)

    @extend_schema(request=UserUpdateSerializer, responses=UserSerializer)
    def update(self, request: Request, pk: Any = None) -> Response:
        return self._update(request, partial=False)

    @extend_schema(request=UserUpdateSerializer, responses=UserSerializer)
    def partial_update(self, request: Request, pk: Any = None) -> Response:
        return self._update(request, partial=True)

    def _update(self, request: Request, *, partial: bool) -> Response:
        user = self.get_object()
        data = self.validated(UserUpdateSerializer, partial=partial)
        user = services.user_update(actor=request.user, user=user, **data)
        return self.object_response(user)

    @extend_schema(request=PasswordSerializer, responses={204: None})
    @action(detail=True, methods=["post"], url_path="set-password")
    def set_password(self, request: Request, pk: Any = None) -> Response:
        user = self.get_object()
        data = self.validated(PasswordSerializer)
        services.user_set_password(actor=request.user, user=user, password=data["password"])
        return Response(status=204)

    @extend_schema(methods=["GET"], request=None, responses=MeSerializer)
    @extend_schema(methods=["PATCH"], request=MeUpdateSerializer, responses=MeSerializer)
    @action(detail=False, methods=["get", "patch"], pagination_class=None, filter_backends=())
    def me(self, request: Request) -> Response:
        """The signed-in user, with the permissions of their role."""
        user = request.user
        if request.method == "PATCH":
            data = self.validated(MeUpdateSerializer, partial=True)
            if "language" in data:
                user = services.user_set_language(actor=user, language=data["language"])
        return Response(MeSerializer(user, context=self.get_serializer_context()).data)


# --- Notifications --------------------------------------------------------------------------------


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ("id", "kind", "title", "body", "url", "branch", "is_read", "read_at", "created_at")
        read_only_fields = fields


class NotificationFilter(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(method="filter_unread")
    kind = django_filters.ChoiceFilter(choices=NotificationKind.choices)

    class Meta:
        model = Notification
        fields = ("kind",)

    def filter_unread(self, queryset, name, value):
        return queryset.filter(is_read=not value)


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """The signed-in user's own notifications (newest first)."""

    queryset = Notification.objects.all()
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    pagination_class = CursorPagination
    ordering_choices = {"-created_at": ("-created_at", "-id")}
    default_ordering = "-created_at"
    action_permissions = {
        "read": ["accounts.change_notification"],
        "read_all": ["accounts.change_notification"],
    }

    def get_queryset(self):
        return Notification.objects.visible_to(self.request.user)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: Any = None) -> Response:
        """Mark one notification read."""
        notification = services.notification_mark_read(actor=request.user, notification=self.get_object())
        return self.object_response(notification)

    @extend_schema(
        request=None, responses=inline_serializer("NotificationsMarked", {"updated": serializers.IntegerField()})
    )
    @action(detail=False, methods=["post"], url_path="read-all", pagination_class=None, filter_backends=())
    def read_all(self, request: Request) -> Response:
        """Mark every unread notification read."""
        return Response({"updated": services.notification_mark_all_read(actor=request.user)})
