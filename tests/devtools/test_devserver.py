from __future__ import annotations

import io
import sys
import time
from pathlib import Path

from koastops.devtools.management.commands.devserver import Child, Supervisor, build_children

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


def test_children_are_web_worker_and_beat():
    children = build_children(addr="127.0.0.1", port=8123, worker=True, beat=True, reload=False)

    assert [child.name for child in children] == ["web", "worker", "beat"]
    assert children[0].argv[-3:] == ["runserver", "127.0.0.1:8123", "--noreload"]
    assert children[1].argv[1:] == [
        *("-m", "celery", "-A", "koastops", "worker", "-l", "info"),
        *("--concurrency", "2", "-Q", "default,pulls"),
    ]
    assert children[2].argv[1:] == ["-m", "celery", "-A", "koastops", "beat", "-l", "info"]
    assert children[0].stop_whole_group  # runserver's autoreloader child goes with it


def test_worker_and_beat_can_be_left_out():
    children = build_children(addr="127.0.0.1", port=8000, worker=False, beat=False, reload=True)

    assert [child.name for child in children] == ["web"]
    assert "--noreload" not in children[0].argv


def test_one_child_dying_stops_the_others_and_fails(tmp_path: Path):
    survivor = Child("survivor", SLEEPER, stop_whole_group=True)
    doomed = Child(
        "doomed", [sys.executable, "-c", "import sys, time; time.sleep(0.5); sys.exit(3)"]
    )
    errors = io.StringIO()

    started = time.monotonic()
    code = Supervisor([survivor, doomed], cwd=tmp_path, stderr=errors).run()

    assert code == 3
    assert "doomed exited with code 3" in errors.getvalue()
    assert survivor.process.returncode is not None
    assert not survivor.group_alive()
    assert time.monotonic() - started < 10


def test_stop_signal_stops_every_child(tmp_path: Path):
    children = [Child("a", SLEEPER, stop_whole_group=True), Child("b", SLEEPER)]
    supervisor = Supervisor(children, cwd=tmp_path, stderr=io.StringIO())

    def ask_to_stop() -> None:
        supervisor.stop_signal = 2  # what the SIGINT handler records

    assert supervisor.run(on_started=ask_to_stop) == 0
    assert all(child.process.returncode is not None for child in children)
