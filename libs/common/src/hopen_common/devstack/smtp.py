"""A real local SMTP server that keeps every mail: aiosmtpd (PyPI) in its own process, each mail a
file of a Maildir (ADR 0017). `hopen up` starts it for the services; the `smtp_server` test fixture
starts one on a free port and reads the mails back."""

from __future__ import annotations

import mailbox
import subprocess
import sys
import time
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import IO

from hopen_common.devstack._util import port_in_use, stop_process_group, tail


class SmtpError(RuntimeError):
    pass


class SmtpServer:
    def __init__(self, data_dir: Path, port: int, *, python: Path | str | None = None,
                 log_file: Path | None = None, host: str = "127.0.0.1") -> None:
        self.data_dir = Path(data_dir)
        self.port = port
        self.host = host
        self.python = str(python or sys.executable)
        self.log_file = log_file or self.data_dir / "smtp.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def maildir(self) -> Path:
        return self.data_dir / "Maildir"

    def start(self, timeout: float = 20.0) -> None:
        if port_in_use(self.port, self.host):
            raise SmtpError(f"port {self.port} already in use")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        mailbox.Maildir(self.maildir, create=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_file.open("ab")
        self.proc = subprocess.Popen(
            [self.python, "-m", "aiosmtpd", "-n", "-l", f"{self.host}:{self.port}",
             "-c", "aiosmtpd.handlers.Mailbox", str(self.maildir)],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        (self.data_dir / "smtp.pid").write_text(f"{self.proc.pid}\n")
        limite = time.monotonic() + timeout
        while not port_in_use(self.port, self.host):
            if self.proc.poll() is not None or time.monotonic() > limite:
                self.stop()
                raise SmtpError(f"aiosmtpd did not start on {self.port}:\n{tail(self.log_file)}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None:
            stop_process_group(self.proc, timeout=10)
            self.proc = None
        (self.data_dir / "smtp.pid").unlink(missing_ok=True)
        if self._log is not None:
            self._log.close()
            self._log = None

    def messages(self) -> list[EmailMessage]:
        """Every mail received, oldest first (by the Maildir file's time)."""
        fichiers = sorted((p for d in ("new", "cur") for p in (self.maildir / d).glob("*")),
                          key=lambda p: (p.stat().st_mtime_ns, p.name))
        parseur = BytesParser(policy=policy.default)
        return [parseur.parsebytes(p.read_bytes()) for p in fichiers]

    def vider(self) -> None:
        for d in ("new", "cur"):
            for p in (self.maildir / d).glob("*"):
                p.unlink(missing_ok=True)
