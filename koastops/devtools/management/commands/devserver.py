"""`manage.py devserver`: the web server, a Celery worker and Celery beat in one terminal.

Each child runs in its own process group so that a terminal Ctrl-C reaches only this
supervisor, which then stops the three in order, the whole group at once (runserver's
autoreloader and the worker's pool processes included). If one child dies the others are
stopped too and the command fails: a dev stack with a silently dead worker is worse than
none.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

STOP_TIMEOUT_SECONDS = 15.0
POLL_SECONDS = 0.2


@dataclass
class Child:
    name: str
    argv: list[str]
    # runserver's autoreloader parent dies without stopping the serving child, so the web
    # server is stopped as a group; Celery's main process stops its own pool (signalling
    # the pool processes directly makes the worker hang on their deaths).
    stop_whole_group: bool = False
    process: subprocess.Popen | None = field(default=None, repr=False)

    def start(self, cwd: Path) -> None:
        self.process = subprocess.Popen(  # noqa: S603 — our own interpreter, fixed argv
            self.argv, cwd=cwd, stdin=subprocess.DEVNULL, process_group=0
        )

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def signal_group(self, signum: int) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):  # the whole group is already gone
            os.killpg(self.process.pid, signum)

    def request_stop(self, signum: int) -> None:
        if self.stop_whole_group:
            self.signal_group(signum)
        elif self.process is not None and self.process.poll() is None:
            self.process.send_signal(signum)

    def group_alive(self) -> bool:
        if self.process is None:
            return False
        self.process.poll()
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def build_children(
    *, addr: str, port: int, worker: bool, beat: bool, reload: bool, python: str | None = None
) -> list[Child]:
    python = python or sys.executable
    runserver = [python, str(Path(settings.BASE_DIR) / "manage.py"), "runserver", f"{addr}:{port}"]
    if not reload:
        runserver.append("--noreload")
    children = [Child("web", runserver, stop_whole_group=True)]
    if worker:
        children.append(
            Child(
                "worker",
                [
                    *(python, "-m", "celery", "-A", "koastops", "worker", "-l", "info"),
                    *("--concurrency", "2", "-Q", "default,pulls"),
                ],
            )
        )
    if beat:
        children.append(
            Child("beat", [python, "-m", "celery", "-A", "koastops", "beat", "-l", "info"])
        )
    return children


class Supervisor:
    """Starts children, waits, and stops them all when asked or when one of them dies."""

    def __init__(self, children: list[Child], *, cwd: Path, stderr=None) -> None:
        self.children = children
        self.cwd = cwd
        self.stderr = stderr or sys.stderr
        self.stop_signal: int | None = None

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.stop_signal is not None and signum == signal.SIGINT:
            # A second Ctrl-C: stop waiting politely.
            for child in self.children:
                child.signal_group(signal.SIGKILL)
        self.stop_signal = signum

    def run(self, on_started=None) -> int:
        """Start every child, call ``on_started``, wait; returns 0 when asked to stop, the
        dead child's exit code (or 1) when one died."""
        previous = {
            signum: signal.signal(signum, self._on_signal)
            for signum in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            for child in self.children:
                child.start(self.cwd)
            if on_started is not None:
                on_started()
            return self._wait()
        finally:
            self.stop()
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _wait(self) -> int:
        while True:
            if self.stop_signal is not None:
                return 0
            for child in self.children:
                code = child.exit_code()
                if code is not None:
                    self.stderr.write(
                        f"devserver: {child.name} exited with code {code}; stopping the others.\n"
                    )
                    return code if code > 0 else 1
            time.sleep(POLL_SECONDS)

    def stop(self) -> None:
        """Forward the stop signal (SIGINT when a child died), then SIGKILL leftovers."""
        forwarded = self.stop_signal if self.stop_signal is not None else signal.SIGINT
        for child in self.children:
            child.request_stop(forwarded)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while time.monotonic() < deadline and any(c.group_alive() for c in self.children):
            time.sleep(POLL_SECONDS)
        for child in self.children:
            if child.group_alive():
                self.stderr.write(f"devserver: {child.name} did not stop; killing it.\n")
                child.signal_group(signal.SIGKILL)
            if child.process is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.process.wait(timeout=STOP_TIMEOUT_SECONDS)


class Command(BaseCommand):
    help = "Run the web server, a Celery worker and Celery beat together (development only)."
    requires_system_checks = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("--addr", default="127.0.0.1", help="Address to bind (127.0.0.1).")
        parser.add_argument("--port", type=int, default=8000, help="Port to bind (8000).")
        parser.add_argument("--no-worker", action="store_true", help="Do not start a worker.")
        parser.add_argument("--no-beat", action="store_true", help="Do not start beat.")
        parser.add_argument(
            "--noreload", action="store_true", help="Do not restart the web server on changes."
        )

    def handle(self, *args, addr: str, port: int, no_worker: bool, no_beat: bool, **options):
        if not settings.DEBUG:
            self.stderr.write(
                "devserver: DEBUG is off; runserver will not serve static files. "
                "`make run` sets DEBUG=1."
            )
        children = build_children(
            addr=addr,
            port=port,
            worker=not no_worker,
            beat=not no_beat,
            reload=not options["noreload"],
        )
        supervisor = Supervisor(children, cwd=Path(settings.BASE_DIR))
        stopped = ["the web server"]
        if not no_worker:
            stopped.append("the worker")
        if not no_beat:
            stopped.append("beat")
        what = stopped[0] if len(stopped) == 1 else ", ".join(stopped[:-1]) + " and " + stopped[-1]
        host = "127.0.0.1" if addr in ("0.0.0.0", "::") else addr  # noqa: S104 — display only
        # Links in the emails the worker sends point at this server unless SITE_URL is set
        # (the children read their settings from this environment).
        os.environ.setdefault("SITE_URL", f"http://{host}:{port}")

        def announce() -> None:
            self.stdout.write(
                self.style.SUCCESS(f"koastops is running at http://{host}:{port}/")
                + f" — Ctrl-C stops {what}."
                + (f" Sent emails: http://{host}:{port}/dev/outbox/" if settings.DEBUG else "")
            )
            self.stdout.flush()

        code = supervisor.run(on_started=announce)
        if code:
            raise CommandError("devserver stopped because a process died.", returncode=code)
        self.stdout.write("devserver: stopped.")
