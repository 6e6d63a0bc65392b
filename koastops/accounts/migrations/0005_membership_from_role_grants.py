"""One Membership row per (user, brand) from the guardian role grants that existed before.

Nothing stopped two role grants on one brand until now. Where a user holds several, the
most recent grant (highest id: ``grant_role`` removes the others before it assigns) is
kept and the older role grants on that brand are deleted, so the guardian grants and the
memberships agree from here on."""

from django.db import migrations

ROLE_PREFIX = "role_"
ROLES = {"ops_lead", "media_buyer", "legal_reviewer", "analyst"}


def memberships_from_grants(apps, schema_editor):
    grant_model = apps.get_model("accounts", "BrandUserObjectPermission")
    membership_model = apps.get_model("accounts", "Membership")
    codenames = [ROLE_PREFIX + role for role in ROLES]
    grants = (
        grant_model.objects.filter(permission__codename__in=codenames)
        .order_by("-id")
        .values_list("id", "user_id", "content_object_id", "permission__codename")
    )
    kept: dict[tuple[int, int], str] = {}
    superseded: list[int] = []
    for grant_id, user_id, brand_id, codename in grants:
        key = (user_id, brand_id)
        if key in kept:
            superseded.append(grant_id)
        else:
            kept[key] = codename.removeprefix(ROLE_PREFIX)
    grant_model.objects.filter(id__in=superseded).delete()
    membership_model.objects.bulk_create(
        [
            membership_model(user_id=user_id, brand_id=brand_id, role=role)
            for (user_id, brand_id), role in kept.items()
        ],
        batch_size=1000,
    )


def drop_memberships(apps, schema_editor):
    apps.get_model("accounts", "Membership").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_membership"),
        # The role permissions (catalog.role_*) are created after catalog's migrations;
        # grants referencing them exist only where those ran.
        ("catalog", "0003_alter_adaccount_options_alter_brand_options"),
    ]

    operations = [migrations.RunPython(memberships_from_grants, drop_memberships)]
