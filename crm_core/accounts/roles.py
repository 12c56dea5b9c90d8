"""Role → permissions. Groups named after the roles are kept in line with this table by a
data migration (and ``sync_role_groups`` whenever the table changes)."""

from __future__ import annotations

from crm_core.accounts.models import Role

V, A, C, D = "view", "add", "change", "delete"


def _perms(app_model: str, *actions: str) -> set[str]:
    app, model = app_model.split(".")
    return {f"{app}.{action}_{model}" for action in actions}


def _build() -> dict[str, set[str]]:
    read_catalogue = _perms("inventory.product", V) | _perms("inventory.category", V) | _perms("inventory.warehouse", V)
    read_stock = _perms("inventory.stocklevel", V) | _perms("inventory.stockmovement", V)
    read_customers = (
        _perms("customers.customer", V) | _perms("customers.customercategory", V) | _perms("customers.customernote", V)
    )
    read_orders = (
        _perms("orders.order", V)
        | _perms("orders.orderitem", V)
        | _perms("orders.payment", V)
        | _perms("orders.shippingdetails", V)
        | _perms("orders.orderstatuschange", V)
    )
    read_inspections = (
        _perms("inspections.inspection", V)
        | _perms("inspections.inspectionresult", V)
        | _perms("inspections.inspectionphoto", V)
    )
    everyone = {"accounts.view_notification", "accounts.change_notification", "accounts.view_branch"}

    sales = (
        everyone
        | read_catalogue
        | read_stock
        | read_inspections
        | _perms("customers.customer", V, A, C)
        | _perms("customers.customernote", V, A)
        | _perms("customers.customercategory", V)
        | _perms("orders.order", V, A, C)
        | _perms("orders.orderitem", V, A, C, D)
        | _perms("orders.payment", V, A)
        | _perms("orders.shippingdetails", V, A, C)
        | _perms("orders.orderstatuschange", V)
        | {"orders.transition_order", "inspections.add_inspection"}
    )
    dispatcher = (
        everyone
        | read_catalogue
        | read_orders
        | _perms("customers.customer", V, A, C)
        | _perms("customers.customernote", V, A)
        | _perms("customers.customercategory", V)
        | _perms("inspections.inspection", V, A, C)
        | _perms("inspections.inspectionresult", V)
        | _perms("inspections.inspectionphoto", V)
        | {"orders.add_order", "orders.add_orderitem", "accounts.view_user"}
    )
    inspector = (
        everyone
        | read_catalogue
        | _perms("customers.customer", V)
        | _perms("customers.customernote", V, A)
        | _perms("inspections.inspection", V, C)
        | _perms("inspections.inspectionresult", V, A, C)
        | _perms("inspections.inspectionphoto", V, A)
    )
    storekeeper = (
        everyone
        | read_orders
        | _perms("inventory.product", V, A, C)
        | _perms("inventory.category", V, A, C)
        | _perms("inventory.warehouse", V)
        | _perms("inventory.stocklevel", V)
        | _perms("inventory.stockmovement", V, A)
        | {"inventory.adjust_stock", "orders.transition_order"}
    )
    accountant = (
        everyone
        | read_catalogue
        | read_stock
        | read_customers
        | read_orders
        | _perms("orders.payment", V, A)
        | {"accounts.view_reports", "accounts.view_activitylog"}
    )
    manager = (
        sales
        | dispatcher
        | storekeeper
        | accountant
        | _perms("customers.customercategory", V, A, C)
        | _perms("inventory.warehouse", V, A, C)
        | _perms("inspections.inspectionresult", V, A, C)
        | _perms("inspections.inspectionphoto", V, A)
        | _perms("accounts.user", V)
        | _perms("accounts.department", V)
    )
    return {
        Role.MANAGER: manager,
        Role.DISPATCHER: dispatcher,
        Role.INSPECTOR: inspector,
        Role.SALES: sales,
        Role.STOREKEEPER: storekeeper,
        Role.ACCOUNTANT: accountant,
    }


ROLE_PERMISSIONS: dict[str, set[str]] = _build()
# Administrators hold every permission of the project's apps.
ADMIN_APPS = ("accounts", "customers", "orders", "inspections", "inventory", "auth")


def sync_role_groups(apps) -> None:
    """Create each role's Group and give it exactly its permissions (``apps`` may be historical)."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    all_perms = {
        f"{p.content_type.app_label}.{p.codename}": p for p in Permission.objects.select_related("content_type")
    }
    for role in Role.values:
        group, _ = Group.objects.get_or_create(name=role)
        if role == Role.ADMIN:
            wanted = [p for key, p in all_perms.items() if key.split(".")[0] in ADMIN_APPS]
        else:
            missing = ROLE_PERMISSIONS[role] - all_perms.keys()
            if missing:
                raise RuntimeError(f"Role {role} names unknown permissions: {sorted(missing)}")
            wanted = [all_perms[key] for key in ROLE_PERMISSIONS[role]]
        group.permissions.set(wanted)
