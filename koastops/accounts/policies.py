"""The one place that decides who may see and do what.

Views, htmx fragments, the API and tasks ask this module; none decides access on its
own. A brand the user holds no role on answers 404 (its existence does not leak); a
brand the user may see but not change answers 403 on change.

Until per-brand roles land (issue #3) only the Admin role (``is_superuser``) exists:
admins see and manage every brand, everyone else sees none.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse

if TYPE_CHECKING:
    from koastops.accounts.models import User
    from koastops.catalog.models import AdAccount, Brand, Pixel


def is_admin(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_superuser)


def brands_for(user: User) -> QuerySet[Brand]:
    """Every brand the user may see, archived ones included."""
    from koastops.catalog.models import Brand

    if is_admin(user):
        return Brand.objects.all()
    return Brand.objects.none()


def brand_for_view(user: User, slug: str) -> Brand:
    """The brand, or 404 when it does not exist or the user holds no role on it."""
    brand = brands_for(user).filter(slug=slug).first()
    if brand is None:
        raise Http404("No such brand.")
    return brand


def can_create_brand(user: User) -> bool:
    return is_admin(user)


def can_edit_brand(user: User, brand: Brand) -> bool:
    return is_admin(user)


def can_manage_catalog(user: User, brand: Brand) -> bool:
    """Ad accounts and pixels of the brand: create, edit, archive, set credentials."""
    return is_admin(user)


def ad_accounts_for(user: User, brand: Brand) -> QuerySet[AdAccount]:
    return brand.ad_accounts.all()


def pixels_for(user: User, brand: Brand) -> QuerySet[Pixel]:
    return brand.pixels.all()


def require(allowed: bool, message: str = "You may not do this.") -> None:
    if not allowed:
        raise PermissionDenied(message)


def admin_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Install-wide pages (system diagnostics): signed-in admins only, 403 for others."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        require(is_admin(request.user), "Only admins can open this page.")
        return view(request, *args, **kwargs)

    return wrapper
