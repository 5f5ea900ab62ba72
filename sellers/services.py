"""Writes for accounts, sellers and memberships."""

from __future__ import annotations

import re

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name, schema_context, schema_exists

from channels_app.widget.services import widget_account_ensure
from sellers.models import Domain, Membership, Seller, User

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,28}[a-z0-9])$")
RESERVED_SLUGS = frozenset(
    {
        "admin",
        "api",
        "app",
        "assets",
        "blog",
        "cdn",
        "dashboard",
        "demo-shop",
        "dev",
        "docs",
        "help",
        "mail",
        "media",
        "public",
        "shop",
        "smtp",
        "static",
        "status",
        "support",
        "template",
        "tenant-template",
        "test",
        "widget",
        "www",
        "ws",
    }
)


def seller_schema_name(slug: str) -> str:
    """The PostgreSQL schema of a seller; the prefix keeps clear of system schema names."""
    return "s_" + slug.replace("-", "_")


def seller_domain_name(slug: str) -> str:
    return f"{slug}.{settings.BASE_DOMAIN}"


def seller_validate_slug(slug: str) -> str:
    slug = (slug or "").strip().lower()
    if not SLUG_PATTERN.match(slug) or "--" in slug:
        raise ValidationError(
            _("Use 3 to 30 lowercase letters, digits or hyphens, starting and ending with a letter or digit."),
            code="invalid_slug",
        )
    if slug in RESERVED_SLUGS:
        raise ValidationError(_("This address is reserved."), code="reserved_slug")
    if Seller.objects.filter(slug=slug).exists():
        raise ValidationError(_("This address is already taken."), code="slug_taken")
    return slug


@transaction.atomic
def seller_provision(*, name: str, slug: str, owner: User | None, verbosity: int = 0) -> Seller:
    """Create a seller: the row, its schema (cloned from the template), its domain and owner.

    Everything happens in one transaction, schema included (PostgreSQL DDL is
    transactional): a failure anywhere leaves nothing behind.
    """
    slug = seller_validate_slug(slug)
    name = name.strip()
    if not name:
        raise ValidationError(_("Enter the shop name."), code="name_required")
    with schema_context(get_public_schema_name()):
        seller = Seller(name=name, slug=slug, schema_name=seller_schema_name(slug))
        seller.save(verbosity=verbosity)
        Domain.objects.create(domain=seller_domain_name(slug), tenant=seller, is_primary=True)
        if owner is not None:
            Membership.objects.create(user=owner, seller=seller, role=Membership.Role.OWNER)
        widget_account_ensure(seller)
    return seller


@transaction.atomic
def seller_sign_up(*, email: str, password: str, shop_name: str, slug: str) -> tuple[User, Seller]:
    """Sign a new seller up: the user, the seller with its schema and domain, the owner
    membership and allauth's e-mail record, all or nothing."""
    email = User.objects.normalize_email(email).strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError(_("A user with this e-mail address already exists."), code="email_taken")
    user = User(email=email)
    validate_password(password, user)
    user.set_password(password)
    user.save()
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=False)
    seller = seller_provision(name=shop_name, slug=slug, owner=user)
    return user, seller


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    """Remove a member; a seller always keeps at least one owner."""
    if membership.is_owner and not (
        Membership.objects.filter(seller=membership.seller, role=Membership.Role.OWNER)
        .exclude(pk=membership.pk)
        .exists()
    ):
        raise ValidationError(_("A shop needs at least one owner."), code="last_owner")
    membership.delete()


def public_tenant_ensure() -> Seller:
    """The public tenant (the platform site) and its domains; idempotent."""
    with schema_context(get_public_schema_name()):
        public, _created = Seller.objects.get_or_create(
            schema_name=get_public_schema_name(),
            defaults={"name": "ma5zani", "slug": "ma5zani-public"},
        )
        for index, host in enumerate(dict.fromkeys([settings.BASE_DOMAIN, "localhost"])):
            Domain.objects.get_or_create(domain=host, defaults={"tenant": public, "is_primary": index == 0})
    return public


def template_tenant_ensure(verbosity: int = 0) -> Seller:
    """The template tenant whose schema new sellers are cloned from; idempotent.

    It is a tenant row so that `migrate_schemas` keeps its schema migrated like any other. A
    schema found without its row (the row was deleted, so migrations skipped it) is migrated
    again here.
    """
    schema = settings.TENANT_TEMPLATE_SCHEMA
    with schema_context(get_public_schema_name()):
        template = Seller.objects.filter(schema_name=schema).first()
        if template is None:
            existed = schema_exists(schema)
            template = Seller(
                schema_name=schema,
                name="Template",
                slug="tenant-template",
                is_template=True,
                is_active=False,
            )
            template.save(verbosity=verbosity)
            if existed:
                call_command("migrate_schemas", tenant=True, schema_name=schema, interactive=False, verbosity=verbosity)
    return template
