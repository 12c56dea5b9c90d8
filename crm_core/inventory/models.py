from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Self

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from crm_core.common.models import BranchScopedQuerySet, TimeStampedModel, VersionedModel

if TYPE_CHECKING:
    from crm_core.accounts.models import User


class Category(TimeStampedModel):
    """Product category; ``parent`` makes a tree (e.g. Flooring → Ceramic tiles)."""

    name = models.CharField(_("name"), max_length=120)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="category_unique_name_in_parent"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(parent__isnull=True), name="category_unique_root_name"
            ),
            models.CheckConstraint(condition=~Q(parent=F("id")), name="category_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.name


class Unit(models.TextChoices):
    PIECE = "piece", _("Piece")
    BOX = "box", _("Box")
    METER = "meter", _("Metre")
    SQUARE_METER = "m2", _("Square metre")
    KILOGRAM = "kg", _("Kilogram")
    LITER = "liter", _("Litre")


class ProductQuerySet(models.QuerySet):
    def visible_to(self, user: User | None) -> Self:
        """Products are company-wide: an active account sees every one; permissions decide the rest."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        return self.all()

    def active(self) -> Self:
        return self.filter(is_active=True)


class Product(TimeStampedModel, VersionedModel):
    """Products are company-wide; their stock lives per warehouse in StockLevel."""

    sku = models.CharField(_("SKU"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, null=True, blank=True, related_name="products"
    )
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices, default=Unit.PIECE)
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2)
    cost = models.DecimalField(_("cost"), max_digits=12, decimal_places=2, default=Decimal("0"))
    reorder_level = models.DecimalField(_("reorder level"), max_digits=12, decimal_places=3, default=Decimal("0"))
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    search_text = models.TextField(editable=False, default="")

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_non_negative"),
            models.CheckConstraint(condition=Q(cost__gte=0), name="product_cost_non_negative"),
            models.CheckConstraint(condition=Q(reorder_level__gte=0), name="product_reorder_non_negative"),
            models.CheckConstraint(condition=Q(unit__in=Unit.values), name="product_unit_valid"),
            models.CheckConstraint(condition=~Q(sku=""), name="product_sku_not_blank"),
            models.CheckConstraint(condition=Q(version__gte=1), name="product_version_positive"),
        ]
        indexes = [
            models.Index(fields=["name"], name="product_name_idx"),
            models.Index(fields=["is_active", "name"], name="product_active_name_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"


class WarehouseQuerySet(BranchScopedQuerySet):
    pass


class Warehouse(TimeStampedModel):
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=120)
    branch = models.ForeignKey(
        "accounts.Branch", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="warehouses"
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    is_default = models.BooleanField(
        _("branch's default"), default=False, help_text=_("Orders of the branch ship from this warehouse.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = WarehouseQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")
        constraints = [
            models.UniqueConstraint(
                fields=["branch"], condition=Q(is_default=True), name="warehouse_one_default_per_branch"
            ),
            models.CheckConstraint(condition=~Q(code=""), name="warehouse_code_not_blank"),
        ]

    def __str__(self) -> str:
        return self.name


class StockLevelQuerySet(BranchScopedQuerySet):
    branch_field = "warehouse__branch_id"

    def low(self) -> Self:
        return self.filter(quantity__lt=F("product__reorder_level"))


class StockLevel(models.Model):
    """Quantity of one product in one warehouse ("Inventory" in the old system)."""

    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="stock_levels"
    )
    warehouse = models.ForeignKey(
        Warehouse, verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="stock_levels"
    )
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3, default=Decimal("0"))
    # True from the moment the level falls below the reorder level until it is back at or
    # above it, so one crossing raises exactly one alert.
    is_low = models.BooleanField(_("low"), default=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = StockLevelQuerySet.as_manager()

    class Meta:
        ordering = ["product__name"]
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        constraints = [
            models.UniqueConstraint(fields=["product", "warehouse"], name="stock_level_one_per_product_warehouse"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="stock_level_quantity_non_negative"),
        ]
        indexes = [
            models.Index(fields=["warehouse", "is_low"], name="stock_level_wh_low_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.product} @ {self.warehouse}: {self.quantity}"


class MovementKind(models.TextChoices):
    RECEIVE = "receive", _("Receipt")
    ISSUE = "issue", _("Issue")
    ADJUST = "adjust", _("Adjustment")
    TRANSFER_OUT = "transfer_out", _("Transfer out")
    TRANSFER_IN = "transfer_in", _("Transfer in")


class StockMovementQuerySet(BranchScopedQuerySet):
    pass


class StockMovement(models.Model):
    """Append-only ledger: ``quantity`` is the signed change, ``balance_after`` the level after it."""

    # product, warehouse and branch lead composite indexes in Meta; a single-column index each
    # would only slow every movement written to this append-only ledger.
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="movements", db_index=False
    )
    warehouse = models.ForeignKey(
        Warehouse, verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="movements", db_index=False
    )
    branch = models.ForeignKey(
        "accounts.Branch", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    kind = models.CharField(_("kind"), max_length=14, choices=MovementKind.choices)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    balance_after = models.DecimalField(_("balance after"), max_digits=14, decimal_places=3)
    unit_cost = models.DecimalField(_("unit cost"), max_digits=12, decimal_places=2, null=True, blank=True)
    order = models.ForeignKey(
        "orders.Order",
        verbose_name=_("order"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="movements",
    )
    transfer_peer = models.OneToOneField(
        "self", verbose_name=_("other leg"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    objects = StockMovementQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        permissions = [("adjust_stock", _("Can adjust stock counts"))]
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="stock_movement_quantity_non_zero"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="stock_movement_balance_non_negative"),
            models.CheckConstraint(condition=Q(kind__in=MovementKind.values), name="stock_movement_kind_valid"),
            models.CheckConstraint(
                condition=(Q(kind__in=["receive", "transfer_in"], quantity__gt=0))
                | (Q(kind__in=["issue", "transfer_out"], quantity__lt=0))
                | Q(kind="adjust"),
                name="stock_movement_sign_matches_kind",
            ),
        ]
        indexes = [
            models.Index(fields=["branch", "-created_at", "-id"], name="movement_branch_recent_idx"),
            models.Index(fields=["-created_at", "-id"], name="movement_recent_idx"),
            models.Index(fields=["product", "warehouse", "-id"], name="movement_product_wh_idx"),
            models.Index(fields=["warehouse", "-created_at"], name="movement_wh_recent_idx"),
            models.Index(fields=["kind", "-created_at"], name="movement_kind_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity} {self.product_id}@{self.warehouse_id}"
