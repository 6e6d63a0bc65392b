from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from koastops.activity.services import activity_verify, checkpoint_dir


class Command(BaseCommand):
    help = (
        "Verify the activity log: every row's HMAC and link to the previous row, and the "
        "signed checkpoints (their last row still there, same hash, same count). Exits "
        "non-zero naming the first problem."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--checkpoints",
            type=Path,
            default=None,
            help="Directory of checkpoint files (default: ACTIVITY_CHECKPOINT_DIR), e.g. a "
            "copy fetched back from where the webhook delivered them.",
        )

    def handle(self, *args, checkpoints: Path | None = None, **options) -> None:
        directory = checkpoints or checkpoint_dir()
        try:
            result = activity_verify(directory=directory)
        except ImproperlyConfigured as exc:
            raise CommandError(f"Cannot verify the activity log: {exc}") from exc
        if result.broken is not None:
            broken = result.broken
            raise CommandError(
                f"Activity log broken at row {broken.pk} ({broken.created_at:%Y-%m-%d %H:%M:%S} "
                f"{broken.verb} {broken.target_label}): {result.problem}. "
                f"{result.checked} rows before it are intact."
            )
        if result.problem:
            raise CommandError(
                f"Activity log broken: {result.problem}. "
                f"{result.checked} rows before it are intact."
            )
        if result.checkpoints:
            where = f"{result.checkpoints} checkpoints in {directory} match"
        else:
            where = f"no checkpoints in {directory} to compare with"
        self.stdout.write(
            self.style.SUCCESS(f"Activity log intact: {result.checked} rows verified; {where}.")
        )
