"""Writes for users, branches, departments, notifications and the login trail."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm_core.accounts.audit import log_activity
from crm_core.accounts.models import Branch, Department, Notification, Role, User
from crm_core.common.services import apply_changes, diff, lock_visible, require_perm, snapshot, validate_model
from realtime.publish import publish

USER_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "role",
    "branch",
    "department",
    "all_branches",
    "is_active",
    "is_staff",
    "language",
)
# A change to any of these alters what the user may see: their open sockets are closed.
ACCESS_FIELDS = ("role", "branch", "all_branches", "is_active")


def _sync_role_group(user: User) -> None:
    user.groups.set([Group.objects.get(name=user.role)])


def branch_create(*, actor: User, code: str, name: str, address: str = "", phone: str = "") -> Branch:
    require_perm(actor, "accounts.add_branch")
    branch = Branch(code=code.strip().upper(), name=name.strip(), address=address, phone=phone)
    validate_model(branch)
    if Branch.objects.filter(code=branch.code).exists():
        raise ValidationError({"code": _("A branch with this code already exists.")})
    with transaction.atomic():
        branch.save()
        log_activity(actor=actor, action="branch.create", target=branch, branch_id=branch.pk)
    return branch


def branch_update(*, actor: User, branch: Branch, **values: Any) -> Branch:
    require_perm(actor, "accounts.change_branch")
    fields = ("name", "address", "phone", "is_active")
    with transaction.atomic():
        branch = Branch.objects.visible_to(actor).select_for_update().get(pk=branch.pk)
        before = snapshot(branch, fields)
        changed = apply_changes(branch, values, fields)
        if changed:
            validate_model(branch)
            branch.save(update_fields=[*changed, "updated_at"])
            log_activity(
                actor=actor,
                action="branch.update",
                target=branch,
                changes=diff(before, snapshot(branch, fields)),
                branch_id=branch.pk,
            )
    return branch


def department_create(*, actor: User, code: str, name: str) -> Department:
    require_perm(actor, "accounts.add_department")
    department = Department(code=code.strip().upper(), name=name.strip())
    validate_model(department)
    if Department.objects.filter(code=department.code).exists():
        raise ValidationError({"code": _("A department with this code already exists.")})
    with transaction.atomic():
        department.save()
        log_activity(actor=actor, action="department.create", target=department)
    return department


def department_update(*, actor: User, department: Department, **values: Any) -> Department:
    require_perm(actor, "accounts.change_department")
    fields = ("name", "is_active")
    with transaction.atomic():
        department = Department.objects.select_for_update().get(pk=department.pk)
        before = snapshot(department, fields)
        changed = apply_changes(department, values, fields)
        if changed:
            validate_model(department)
            department.save(update_fields=[*changed, "updated_at"])
            log_activity(
                actor=actor,
                action="department.update",
                target=department,
                changes=diff(before, snapshot(department, fields)),
            )
    return department


def _check_user_scope(user: User) -> None:
    if user.role not in Role.values:
        raise ValidationError({"role": _("Choose a valid role.")})
    if user.branch_id is None and not user.all_branches and not user.is_superuser:
        raise ValidationError({"branch": _("A user who does not see all branches needs a home branch.")})


def user_create(
    *,
    actor: User,
    username: str,
    password: str,
    role: str,
    branch: Branch | None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    phone: str = "",
    department: Department | None = None,
    all_branches: bool = False,
    language: str = "ar",
) -> User:
    require_perm(actor, "accounts.add_user")
    if branch is not None:
        branch = Branch.objects.visible_to(actor).get(pk=branch.pk)
    if all_branches and not actor.sees_all_branches:
        raise ValidationError({"all_branches": _("Only a user who sees all branches can grant that.")})
    user = User(
        username=username.strip(),
        role=role,
        branch=branch,
        first_name=first_name,
        last_name=last_name,
        email=email,
        phone=phone,
        department=department,
        all_branches=all_branches,
        language=language,
    )
    validate_model(user, exclude=["password"])
    _check_user_scope(user)
    if User.objects.filter(username__iexact=user.username).exists():
        raise ValidationError({"username": _("This username is taken.")})
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    user.set_password(password)
    with transaction.atomic():
        user.save()
        _sync_role_group(user)
        log_activity(
            actor=actor,
            action="user.create",
            target=user,
            changes={"role": [None, role], "branch": [None, user.branch_id]},
            branch_id=user.branch_id,
        )
    return user


def user_update(*, actor: User, user: User, **values: Any) -> User:
    require_perm(actor, "accounts.change_user")
    with transaction.atomic():
        user = lock_visible(User.objects, actor, user.pk)
        if "branch" in values and values["branch"] is not None:
            values["branch"] = Branch.objects.visible_to(actor).get(pk=values["branch"].pk)
        if values.get("all_branches") and not actor.sees_all_branches:
            raise ValidationError({"all_branches": _("Only a user who sees all branches can grant that.")})
        if user.pk == actor.pk and values.get("is_active") is False:
            raise ValidationError({"is_active": _("You cannot deactivate your own account.")})
        before = snapshot(user, USER_FIELDS)
        changed = apply_changes(user, values, USER_FIELDS)
        if not changed:
            return user
        validate_model(user, exclude=["password"])
        _check_user_scope(user)
        user.save(update_fields=changed)
        if "role" in changed:
            _sync_role_group(user)
        log_activity(
            actor=actor,
            action="user.update",
            target=user,
            changes=diff(before, snapshot(user, USER_FIELDS)),
            branch_id=user.branch_id,
        )
        if set(changed) & set(ACCESS_FIELDS):
            publish("user.access_changed", branch_id=user.branch_id, data={"user": user.pk}, users=(user.pk,))
    return user


def user_set_password(*, actor: User, user: User, password: str) -> User:
    if actor.pk != user.pk:
        require_perm(actor, "accounts.change_user")
    with transaction.atomic():
        user = lock_visible(User.objects, actor, user.pk) if actor.pk != user.pk else User.objects.get(pk=user.pk)
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from None
        user.set_password(password)
        user.save(update_fields=["password"])
        log_activity(actor=actor, action="user.set_password", target=user, branch_id=user.branch_id)
        # The new password signs the user's other sessions out; their open sockets close too.
        publish("user.access_changed", branch_id=user.branch_id, data={"user": user.pk}, users=(user.pk,))
    return user


Text = str | Callable[[], str]


def notify_users(
    *,
    recipients: list[User],
    kind: str,
    title: Text,
    body: Text = "",
    url: str = "",
    branch_id: int | None = None,
    target: Any = None,
) -> list[Notification]:
    """Store notifications first (they must not be lost), then push a hint to each person.

    ``title`` and ``body`` may be callables that build the text with gettext: each is called
    under every recipient's own language, so the stored notification — and its toast — reads
    in the language of the person it is for, not of the person whose action raised it.
    """
    target_type = ContentType.objects.get_for_model(target) if target is not None else None
    texts: dict[str, tuple[str, str]] = {}

    def text_for(user: User) -> tuple[str, str]:
        language = user.language or settings.LANGUAGE_CODE
        if language not in texts:
            with translation.override(language):
                texts[language] = (
                    str(title() if callable(title) else title),
                    str(body() if callable(body) else body),
                )
        return texts[language]

    rows = Notification.objects.bulk_create(
        [
            Notification(
                recipient=user,
                branch_id=branch_id,
                kind=kind,
                title=text_for(user)[0][:200],
                body=text_for(user)[1],
                url=url,
                target_type=target_type,
                target_id=target.pk if target is not None else None,
            )
            for user in recipients
        ]
    )
    for row in rows:
        publish(
            "notification.created",
            branch_id=branch_id,
            data={"notification": row.pk, "kind": kind, "title": row.title, "url": url},
            users=(row.recipient_id,),
        )
    return rows


def notification_mark_read(*, actor: User, notification: Notification) -> Notification:
    with transaction.atomic():
        notification = Notification.objects.visible_to(actor).select_for_update().get(pk=notification.pk)
        if not notification.is_read:
            notification.is_read = True
            notification.read_at = timezone.now()
            notification.save(update_fields=["is_read", "read_at"])
    return notification


def notification_mark_all_read(*, actor: User) -> int:
    return Notification.objects.visible_to(actor).unread().update(is_read=True, read_at=timezone.now())


def login_record(*, user: User | None, action: str, ip_address: str | None, username: str = "") -> None:
    """Logins, logouts and failed logins go to the audit trail like any other change."""
    log_activity(
        actor=user,
        action=action,
        target=user,
        branch_id=user.branch_id if user is not None else None,
        ip_address=ip_address,
        actor_repr=str(user) if user is not None else username,
        changes={"username": username} if user is None and username else None,
    )


def user_set_language(*, actor: User, language: str) -> User:
    """Anyone may choose their own interface language; it follows them to every device."""
    if language not in dict(User._meta.get_field("language").choices):
        raise ValidationError({"language": _("Choose Arabic or English.")})
    if actor.language != language:
        with transaction.atomic():
            User.objects.filter(pk=actor.pk).update(language=language)
            log_activity(
                actor=actor,
                action="user.language",
                target=actor,
                branch_id=actor.branch_id,
                changes={"language": [actor.language, language]},
            )
        actor.language = language
    return actor
