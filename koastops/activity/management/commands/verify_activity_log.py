from django.core.management.base import BaseCommand, CommandError

from koastops.activity.services import activity_verify


class Command(BaseCommand):
    help = "Recompute the activity log's hash chain; exit non-zero naming the first broken row."

    def handle(self, *args, **options) -> None:
        checked, broken, reason = activity_verify()
        if broken is not None:
            raise CommandError(
                f"Activity log broken at row {broken.pk} ({broken.created_at:%Y-%m-%d %H:%M:%S} "
                f"{broken.verb} {broken.target_label}): {reason}. {checked} rows before it are intact."
            )
        self.stdout.write(self.style.SUCCESS(f"Activity log intact: {checked} rows verified."))
