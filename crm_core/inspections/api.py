"""API for inspections: scheduling, the field workflow, results and photos (serializers + viewsets)."""

from __future__ import annotations

import mimetypes
from typing import Any

import django_filters
from django.http import HttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from crm_core.accounts.models import Role, User
from crm_core.common.api import fields as api_fields
from crm_core.common.api.concurrency import IF_MATCH_PARAMETER, expected_version
from crm_core.common.api.fields import ScopedPrimaryKeyRelatedField
from crm_core.common.api.negotiation import AnyAccept
from crm_core.common.api.viewsets import KeysetViewSet
from crm_core.customers.models import Customer
from crm_core.inspections import services
from crm_core.inspections.models import (
    Inspection,
    InspectionOutcome,
    InspectionPhoto,
    InspectionResult,
    InspectionStatus,
)

# --- Serializers ----------------------------------------------------------------------------------


class InspectionResultSerializer(serializers.ModelSerializer):
    class Meta:
        model = InspectionResult
        fields = ("outcome", "findings", "measurements", "recommendations", "recorded_by", "created_at")
        read_only_fields = fields


class InspectionPhotoSerializer(serializers.ModelSerializer):
    download = serializers.SerializerMethodField()

    class Meta:
        model = InspectionPhoto
        fields = ("id", "caption", "uploaded_by", "uploaded_at", "download")
        read_only_fields = fields

    def get_download(self, photo: InspectionPhoto) -> str:
        """The API path that serves the picture (same authentication as the API)."""
        return f"/api/v1/inspections/{photo.inspection_id}/photos/{photo.pk}/"


class InspectionSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    inspector_name = serializers.SerializerMethodField()

    class Meta:
        model = Inspection
        fields = (
            "id",
            "number",
            "branch",
            "customer",
            "customer_name",
            "inspector",
            "inspector_name",
            "order",
            "status",
            "scheduled_start",
            "scheduled_end",
            "address",
            "notes",
            "started_at",
            "completed_at",
            "cancel_reason",
            "version",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_inspector_name(self, inspection: Inspection) -> str:
        return str(inspection.inspector) if inspection.inspector_id else ""


class InspectionDetailSerializer(InspectionSerializer):
    result = serializers.SerializerMethodField()
    photos = InspectionPhotoSerializer(many=True, read_only=True)

    class Meta(InspectionSerializer.Meta):
        fields = (*InspectionSerializer.Meta.fields, "result", "photos")
        read_only_fields = fields

    @extend_schema_field(InspectionResultSerializer(allow_null=True))
    def get_result(self, inspection: Inspection) -> dict[str, Any] | None:
        try:
            return InspectionResultSerializer(inspection.result).data
        except InspectionResult.DoesNotExist:
            return None


def _visible_customers(user: Any):
    return Customer.objects.visible_to(user)


def _visible_inspectors(user: Any):
    return User.objects.visible_to(user).filter(role=Role.INSPECTOR)


class InspectorSerializer(serializers.ModelSerializer):
    full_name = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ("id", "username", "full_name", "branch")
        read_only_fields = fields

    def get_full_name(self, user: User) -> str:
        return str(user)


class ScheduleSerializer(serializers.Serializer):
    customer = ScopedPrimaryKeyRelatedField(scope=_visible_customers, queryset=Customer.objects.all())
    scheduled_start = api_fields.DateTimeField()
    scheduled_end = api_fields.DateTimeField()
    inspector = ScopedPrimaryKeyRelatedField(
        scope=_visible_inspectors, queryset=User.objects.all(), required=False, allow_null=True, default=None
    )
    address = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    notes = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class RescheduleSerializer(serializers.Serializer):
    scheduled_start = api_fields.DateTimeField()
    scheduled_end = api_fields.DateTimeField()
    inspector = ScopedPrimaryKeyRelatedField(
        scope=_visible_inspectors,
        queryset=User.objects.all(),
        required=False,
        allow_null=True,
        help_text="Leave out to keep the inspector; null to leave the visit unassigned.",
    )


class AssignSerializer(serializers.Serializer):
    inspector = ScopedPrimaryKeyRelatedField(scope=_visible_inspectors, queryset=User.objects.all(), allow_null=True)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class ResultSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=InspectionOutcome.choices)
    findings = serializers.CharField(max_length=20000)
    measurements = serializers.DictField(
        child=serializers.CharField(max_length=120, allow_blank=True), required=False, default=dict
    )
    recommendations = serializers.CharField(max_length=20000, required=False, allow_blank=True, default="")


class PhotoUploadSerializer(serializers.Serializer):
    image = serializers.ImageField()
    caption = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class InspectionFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=InspectionStatus.choices)
    start_from = django_filters.IsoDateTimeFilter(field_name="scheduled_start", lookup_expr="gte")
    start_before = django_filters.IsoDateTimeFilter(field_name="scheduled_start", lookup_expr="lt")

    class Meta:
        model = Inspection
        fields = ("status", "customer", "inspector", "branch", "order")


_PHOTO_PK = OpenApiParameter("photo_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The photo's id.")

_CHANGE = ["inspections.change_inspection"]


class InspectionViewSet(mixins.ListModelMixin, KeysetViewSet):
    """Visits to customers' sites. Inspectors see and work on their own; dispatchers plan."""

    queryset = Inspection.objects.all()
    serializer_class = InspectionSerializer
    filterset_class = InspectionFilter
    search_lookups = ("number__icontains", "customer__search_text__contains")
    ordering_choices = {
        "scheduled_start": ("scheduled_start", "id"),
        "-scheduled_start": ("-scheduled_start", "-id"),
        "-created_at": ("-created_at", "-id"),
    }
    default_ordering = "scheduled_start"
    service_field_names = {"cancel_reason": "reason", "photos": "image"}
    action_permissions = {
        "inspectors": _CHANGE,
        "reschedule": _CHANGE,
        "assign": _CHANGE,
        "start": _CHANGE,
        "cancel": _CHANGE,
        "no_show": _CHANGE,
        "result": ["inspections.add_inspectionresult"],
        "photos:GET": ["inspections.view_inspectionphoto"],
        "photos:POST": ["inspections.add_inspectionphoto"],
        "photo": ["inspections.view_inspectionphoto"],
    }

    def get_queryset(self):
        return Inspection.objects.visible_to(self.request.user).select_related("customer", "inspector")

    def _detail(self, pk: Any, *, status: int = 200) -> Response:
        inspection = (
            Inspection.objects.visible_to(self.request.user)
            .select_related("customer", "inspector", "result")
            .prefetch_related("photos")
            .get(pk=pk)
        )
        return self.object_response(inspection, status=status, serializer_class=InspectionDetailSerializer)

    @extend_schema(responses=InspectionDetailSerializer)
    def retrieve(self, request: Request, pk: Any = None) -> Response:
        return self._detail(self.get_object().pk)

    @extend_schema(request=ScheduleSerializer, responses={201: InspectionDetailSerializer})
    def create(self, request: Request) -> Response:
        data = self.validated(ScheduleSerializer)
        inspection = services.inspection_schedule(actor=request.user, **data)
        return self._detail(inspection.pk, status=201)

    def _act(self, request: Request, call: Any) -> Response:
        inspection = self.get_object()
        version = expected_version(request, inspection.pk)
        call(inspection, version)
        return self._detail(inspection.pk)

    @extend_schema(responses=InspectorSerializer(many=True))
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=())
    def inspectors(self, request: Request) -> Response:
        """The active inspectors of the branches the user sees: whom a visit may be given to."""
        people = _visible_inspectors(request.user).filter(is_active=True).order_by("first_name", "last_name", "id")
        return Response(InspectorSerializer(people, many=True).data)

    @extend_schema(request=RescheduleSerializer, responses=InspectionDetailSerializer, parameters=[IF_MATCH_PARAMETER])
    @action(detail=True, methods=["post"])
    def reschedule(self, request: Request, pk: Any = None) -> Response:
        """Move the visit in time (and to another inspector when ``inspector`` is sent)."""
        data = self.validated(RescheduleSerializer)
        return self._act(
            request,
            lambda inspection, version: services.inspection_reschedule(
                actor=request.user,
                inspection=inspection,
                scheduled_start=data["scheduled_start"],
                scheduled_end=data["scheduled_end"],
                inspector=data.get("inspector", False),
                expected_version=version,
            ),
        )

    @extend_schema(request=AssignSerializer, responses=InspectionDetailSerializer, parameters=[IF_MATCH_PARAMETER])
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: Any = None) -> Response:
        """Give the visit to an inspector (null: unassign). Never double-books an inspector."""
        data = self.validated(AssignSerializer)
        return self._act(
            request,
            lambda inspection, version: services.inspection_assign(
                actor=request.user, inspection=inspection, inspector=data["inspector"], expected_version=version
            ),
        )

    @extend_schema(request=None, responses=InspectionDetailSerializer, parameters=[IF_MATCH_PARAMETER])
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: Any = None) -> Response:
        """The inspector is on site."""
        return self._act(
            request,
            lambda inspection, version: services.inspection_start(
                actor=request.user, inspection=inspection, expected_version=version
            ),
        )

    @extend_schema(request=ReasonSerializer, responses=InspectionDetailSerializer, parameters=[IF_MATCH_PARAMETER])
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: Any = None) -> Response:
        """Cancel the visit; ``reason`` is required."""
        data = self.validated(ReasonSerializer)
        return self._act(
            request,
            lambda inspection, version: services.inspection_cancel(
                actor=request.user, inspection=inspection, reason=data["reason"], expected_version=version
            ),
        )

    @extend_schema(request=ReasonSerializer, responses=InspectionDetailSerializer, parameters=[IF_MATCH_PARAMETER])
    @action(detail=True, methods=["post"], url_path="no-show")
    def no_show(self, request: Request, pk: Any = None) -> Response:
        """Nobody was there (only once the visit's start time has passed)."""
        data = self.validated(ReasonSerializer)
        return self._act(
            request,
            lambda inspection, version: services.inspection_mark_no_show(
                actor=request.user, inspection=inspection, reason=data["reason"], expected_version=version
            ),
        )

    @extend_schema(request=ResultSerializer, responses=InspectionDetailSerializer, parameters=[IF_MATCH_PARAMETER])
    @action(detail=True, methods=["post"])
    def result(self, request: Request, pk: Any = None) -> Response:
        """Record what was found; this completes the inspection. Photos go to ``photos/``."""
        data = self.validated(ResultSerializer)
        return self._act(
            request,
            lambda inspection, version: services.inspection_record_result(
                actor=request.user, inspection=inspection, expected_version=version, **data
            ),
        )

    @extend_schema(methods=["GET"], request=None, responses=InspectionPhotoSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": PhotoUploadSerializer},
        responses={201: InspectionPhotoSerializer},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        pagination_class=None,
        filter_backends=(),
        parser_classes=(MultiPartParser, JSONParser),
    )
    def photos(self, request: Request, pk: Any = None) -> Response:
        """The visit's photos; POST uploads one (multipart: ``image``, ``caption``)."""
        inspection = self.get_object()
        if request.method == "POST":
            data = self.validated(PhotoUploadSerializer)
            photo = services.inspection_add_photo(
                actor=request.user, inspection=inspection, image=data["image"], caption=data["caption"]
            )
            return Response(InspectionPhotoSerializer(photo).data, status=201)
        photos = InspectionPhoto.objects.filter(inspection=inspection).order_by("uploaded_at", "id")
        return Response(InspectionPhotoSerializer(photos, many=True).data)

    @extend_schema(
        parameters=[_PHOTO_PK],
        responses={(200, "image/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The picture.")},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"photos/(?P<photo_pk>\d+)",
        pagination_class=None,
        filter_backends=(),
        content_negotiation_class=AnyAccept,
    )
    def photo(self, request: Request, pk: Any = None, photo_pk: Any = None) -> HttpResponse:
        """The picture itself."""
        inspection = self.get_object()
        photo = InspectionPhoto.objects.filter(inspection=inspection, pk=photo_pk).first()
        if photo is None:
            raise NotFound()
        try:
            # Read whole (photos are capped at upload): a file iterator under ASGI is drained in
            # a thread with a warning on every request.
            with photo.image.open("rb") as handle:
                content = handle.read()
        except (FileNotFoundError, OSError):
            raise NotFound() from None
        guessed = mimetypes.guess_type(photo.image.name)[0] or ""
        safe = guessed in services.SAFE_IMAGE_TYPES
        # Like the page's photo view: only picture types inline, anything else downloaded.
        response = HttpResponse(content, content_type=guessed if safe else "application/octet-stream")
        response["Content-Disposition"] = content_disposition_header(not safe, photo.image.name.rsplit("/", 1)[-1])
        return response
