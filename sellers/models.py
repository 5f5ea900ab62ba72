"""Accounts, sellers (the tenants), their domains and who may work in them. Public schema."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.management import call_command
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.utils import schema_exists

from ma5zani.tenancy import set_public_schema
from sellers.schema_clone import CloneNotSupported, clone_schema

logger = logging.getLogger(__name__)


class UserManager(DjangoUserManager["User"]):
    """Users are identified by their e-mail address; there is no username."""

    use_in_migrations = True

    def _create_user_by_email(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra: Any
    ) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user_by_email(email, password, **extra)

    def create_superuser(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra: Any
    ) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user_by_email(email, password, **extra)


class User(AbstractUser):
    username = None  # type: ignore[assignment]
    email = models.EmailField(_("email address"), unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[UserManager] = UserManager()

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email


class Seller(TenantMixin):
    class Plan(models.TextChoices):
        FREE = "free", _("Free")
        PRO = "pro", _("Pro")

    # django-tenants' base class is untyped, hence the annotations.
    name: models.CharField[str, str] = models.CharField(_("shop name"), max_length=120)
    slug: models.SlugField[str, str] = models.SlugField(_("shop address"), max_length=40, unique=True)
    plan: models.CharField[str, str] = models.CharField(
        _("plan"), max_length=16, choices=Plan.choices, default=Plan.FREE
    )
    is_active: models.BooleanField[bool, bool] = models.BooleanField(_("active"), default=True)
    # The template schema that new sellers are cloned from; never a real shop.
    is_template: models.BooleanField[bool, bool] = models.BooleanField(default=False, editable=False)
    created_at: models.DateTimeField[object, object] = models.DateTimeField(auto_now_add=True)

    auto_create_schema = True

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def create_schema(self, check_if_exists: bool = False, sync_schema: bool = True, verbosity: int = 1) -> bool:
        """Create this seller's schema by copying the migrated template schema.

        The copy (sellers.schema_clone) takes the tables and the template's django_migrations
        rows; the migrate that follows is a real one (not faked), so a template that lags
        behind the code is caught up here instead of leaving the new seller without a table.
        Without a template (first start, or TENANT_CLONE_TEMPLATE off), or with a template
        holding objects the copier does not handle, every migration is replayed.
        """
        template = settings.TENANT_TEMPLATE_SCHEMA if settings.TENANT_CLONE_TEMPLATE else None
        if not sync_schema or not template or self.schema_name == template or not schema_exists(template):
            return bool(super().create_schema(check_if_exists, sync_schema, verbosity))
        if check_if_exists and schema_exists(self.schema_name):
            return False
        set_public_schema()
        try:
            clone_schema(template, self.schema_name)
        except CloneNotSupported as reason:
            # django-tenants' general clone renames unique constraints, which later
            # migrations drop by name: replaying the migrations is the faithful fallback.
            logger.warning("Template schema cannot be copied (%s); replaying migrations", reason)
            return bool(super().create_schema(check_if_exists, sync_schema, verbosity))
        call_command(
            "migrate_schemas",
            tenant=True,
            schema_name=self.schema_name,
            interactive=False,
            verbosity=verbosity,
        )
        set_public_schema()
        return True


class Domain(DomainMixin):
    def __str__(self) -> str:
        return self.domain


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        AGENT = "agent", _("Agent")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.AGENT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "seller"], name="unique_membership"),
        ]
        ordering = ["seller__name"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.seller} ({self.role})"

    @property
    def is_owner(self) -> bool:
        return self.role == self.Role.OWNER


class HandoffNonce(models.Model):
    """The nonce of a sign-in hand-off token that was used (`sellers.handoff`): a replay of the
    token finds it here. In the database, not the cache, so that no Redis outage can let a
    token in twice; rows older than the tokens' lifetime are deleted as new ones arrive."""

    nonce = models.CharField(max_length=64, primary_key=True)
    used_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.nonce


class Invitation(models.Model):
    """An owner asked someone to join the shop. Nobody becomes a member until they accept, signed
    in as the invited address (or by choosing a password for it, through the e-mailed link)."""

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("e-mail"))
    role = models.CharField(_("role"), max_length=16, choices=Membership.Role.choices, default=Membership.Role.AGENT)
    # Only a digest of the e-mailed token is kept.
    token_digest = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["seller", "email"],
                condition=models.Q(accepted_at__isnull=True, declined_at__isnull=True, revoked_at__isnull=True),
                name="one_open_invitation_per_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.seller} ({self.role})"

    @property
    def is_open(self) -> bool:
        from django.utils import timezone

        ended = self.accepted_at or self.declined_at or self.revoked_at
        return ended is None and self.expires_at > timezone.now()
