from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.crypto import salted_hmac
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        """Sign-in (every auth backend and the admin's login) finds the user by email
        whatever its case: ``Analyst.Verde@…`` is ``analyst.verde@…``. A case-insensitive
        unique constraint keeps this to one row."""
        return self.get(email__iexact=(username or "").strip())


class User(AbstractUser):
    """A person who signs in with their email address. ``is_superuser`` is the Admin role."""

    # Removing an inherited field by setting it to None is what Django documents; the
    # stubs type AbstractUser's fields as always present.
    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    # Bumped to end every session of the user at once (deactivation, forced sign-out).
    session_version = models.PositiveIntegerField(default=0, editable=False)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    # The stubs pin AbstractUser.objects to Django's username-based UserManager; Django
    # accepts any BaseUserManager for a custom user model (this one is email-based).
    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def clean(self) -> None:
        super().clean()
        # Stored lower-cased, as the manager and the invitation store it (admin forms too).
        self.email = (self.email or "").strip().lower()

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    def get_session_auth_hash(self) -> str:
        """Sessions hold this hash; changing the password or ``session_version`` voids them."""
        return salted_hmac(
            "koastops.accounts.User.get_session_auth_hash",
            f"{self.password}:{self.session_version}",
            algorithm="sha256",
        ).hexdigest()


class Role(models.TextChoices):
    """Roles granted per brand. Each is a guardian object permission on the brand."""

    OPS_LEAD = "ops_lead", "Ops lead"
    MEDIA_BUYER = "media_buyer", "Media buyer"
    LEGAL_REVIEWER = "legal_reviewer", "Legal reviewer"
    ANALYST = "analyst", "Analyst"

    @property
    def codename(self) -> str:
        return f"role_{self.value}"


class Membership(models.Model):
    """The user's one role on a brand. The unique key makes "at most one role per (user,
    brand)" a database guarantee; the guardian grant (``catalog.role_<role>`` on the
    brand) follows it in the same transaction (``policies.grant_role`` / ``revoke_role``
    write both, and nothing else writes either)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    brand = models.ForeignKey("catalog.Brand", on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "brand"], name="accounts_membership_one_role"),
        ]
        indexes = [models.Index(fields=["brand", "role"], name="accounts_membership_brand_role")]

    def __str__(self) -> str:
        return f"{self.user} · {Role(self.role).label} on {self.brand}"


# Direct foreign-key permission tables (guardian's fast path): deleting a brand or an ad
# account deletes its grants, and scoped querysets join on an integer key.
class BrandUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey("catalog.Brand", on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        unique_together = ["user", "permission", "content_object"]


class BrandGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey("catalog.Brand", on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        unique_together = ["group", "permission", "content_object"]


class AdAccountUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey("catalog.AdAccount", on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        unique_together = ["user", "permission", "content_object"]


class AdAccountGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey("catalog.AdAccount", on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        unique_together = ["group", "permission", "content_object"]


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="The first characters, to recognise it.")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One name per person among the tokens not revoked, whatever its case (the
            # service retires an expired namesake first and asks nicely before this).
            models.UniqueConstraint(
                "user",
                Lower("name"),
                condition=Q(revoked_at__isnull=True),
                name="accounts_apitoken_name_ci_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, now: dt.datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now
