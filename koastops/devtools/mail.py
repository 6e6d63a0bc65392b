"""Development email: the quickstart's outbox.

The worker sends the emails and the web shows them, so an in-memory backend will not do.
Each message is written as an ``.eml`` file under ``EMAIL_OUTBOX_DIR`` (``var/outbox/``),
which the development outbox page (``/dev/outbox/``, DEBUG only) lists with clickable
links, and its decoded text is printed to the console: Django's console backend prints
the quoted-printable wire form, whose soft line breaks cut long links in two.
"""

from __future__ import annotations

import email
import email.policy
import re
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

KEEP_MESSAGES = 100
LINK = re.compile(r"https?://[^\s<>\"']+")


def outbox_dir() -> Path:
    return Path(settings.EMAIL_OUTBOX_DIR)


class OutboxEmailBackend(BaseEmailBackend):
    def __init__(self, *, stream: IO[str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stream = stream or sys.stdout

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        folder = outbox_dir()
        folder.mkdir(parents=True, exist_ok=True)
        for message in email_messages:
            name = f"{timezone.now():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
            partial = folder / f".{name}.part"
            partial.write_bytes(message.message().as_bytes())
            partial.replace(folder / name)  # the page never reads a half-written file
            self.stream.write(_console_text(message))
            self.stream.flush()
        for old in sorted(folder.glob("*.eml"), reverse=True)[KEEP_MESSAGES:]:
            old.unlink(missing_ok=True)
        return len(email_messages)


def _console_text(message: EmailMessage) -> str:
    return (
        f"From: {message.from_email}\nTo: {', '.join(message.to)}\n"
        f"Subject: {message.subject}\n\n{message.body}\n"
        f"(also in the development outbox: {settings.SITE_URL.rstrip('/')}/dev/outbox/)\n"
        + "-" * 79
        + "\n"
    )


@dataclass(frozen=True)
class OutboxEmail:
    name: str
    sent_at: datetime | None
    from_email: str
    to: str
    subject: str
    body: str

    @property
    def body_parts(self) -> list[tuple[str, bool]]:
        """The body as (text, is_link) pieces, for a template that links the links."""
        parts: list[tuple[str, bool]] = []
        position = 0
        for match in LINK.finditer(self.body):
            parts.append((self.body[position : match.start()], False))
            parts.append((match.group(0), True))
            position = match.end()
        parts.append((self.body[position:], False))
        return [part for part in parts if part[0]]


def outbox_list(*, limit: int = 25) -> list[OutboxEmail]:
    """The newest emails in the outbox, newest first."""
    folder = outbox_dir()
    if not folder.is_dir():
        return []
    emails = []
    for path in sorted(folder.glob("*.eml"), reverse=True)[:limit]:
        try:
            emails.append(_read(path))
        except FileNotFoundError:  # pruned by a sending process meanwhile
            continue
    return emails


def _read(path: Path) -> OutboxEmail:
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    body_part = parsed.get_body(preferencelist=("plain", "html"))
    body = body_part.get_content() if body_part is not None else ""
    sent_at = None
    if parsed["Date"]:
        sent_at = parsed["Date"].datetime
    return OutboxEmail(
        name=path.name,
        sent_at=sent_at,
        from_email=str(parsed["From"] or ""),
        to=str(parsed["To"] or ""),
        subject=str(parsed["Subject"] or ""),
        body=body,
    )
