"""``manage.py stats_backfill --pixel <id> --start <ISO> --end <ISO>``: pull a range of
hourly counts of one pixel inline, with the same code as the scheduled task (a backfill
``PullRun`` row records it). Times without a zone are UTC; the range is rounded out to
whole hours."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError, transaction

from koastops.catalog.models import Pixel
from koastops.quality import pulling
from koastops.quality.models import ACTIVE_PULL_STATUSES, PullKind, PullRun, PullStatus


def parse_moment(value: str, name: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(
            f"--{name} {value!r} is not an ISO 8601 date or time (e.g. 2026-11-01 or "
            "2026-11-01T06:00:00+00:00)."
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


class Command(BaseCommand):
    help = "Pull a range of one pixel's hourly counts now (UTC), like the scheduled pull."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--pixel", type=int, required=True, help="The pixel's id.")
        parser.add_argument("--start", required=True, help="ISO date or time (UTC if no zone).")
        parser.add_argument("--end", required=True, help="ISO date or time, exclusive.")

    def handle(self, *args: Any, **options: Any) -> None:
        start = pulling.floor_hour(parse_moment(options["start"], "start"))
        end_given = parse_moment(options["end"], "end")
        end = pulling.floor_hour(end_given)
        if end < end_given:
            end += dt.timedelta(hours=1)
        if start >= end:
            raise CommandError("--start must be before --end.")
        pixel = Pixel.objects.filter(pk=options["pixel"]).first()
        if pixel is None:
            raise CommandError(f"There is no pixel with id {options['pixel']}.")
        try:
            with transaction.atomic():
                run = PullRun.objects.create(
                    pixel=pixel, kind=PullKind.BACKFILL, range_start=start, range_end=end
                )
        except IntegrityError:
            active = PullRun.objects.filter(pixel=pixel, status__in=ACTIVE_PULL_STATUSES).first()
            raise CommandError(
                f"A pull of {pixel} is already "
                f"{active.get_status_display().lower() if active else 'active'} "
                f"(run {active.pk if active else '?'}); wait for it to end and try again."
            ) from None
        self.stdout.write(
            f"Backfilling {pixel} from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC "
            f"(run {run.pk})…"
        )
        try:
            pulling.run_pull(run.pk)
        except Exception as exc:  # logged by run_pull; the run is marked failed
            raise CommandError(f"The backfill failed unexpectedly: {exc}") from exc
        run.refresh_from_db()
        if run.status != PullStatus.SUCCEEDED:
            raise CommandError(f"The backfill failed: {run.error}")
        self.stdout.write(self.style.SUCCESS(f"Done: {run.rows} hourly rows written."))
