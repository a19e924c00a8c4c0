"""Running the real CLI on a pseudo-terminal, as a user's terminal would: Rich and prompt_toolkit see a TTY."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

_CONTROL = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\x1b[=>]|[\x08\r]")


def plain(data: bytes) -> bytes:
    """What a terminal's screen would show of `data`, roughly: the text without cursor and style sequences."""
    return _CONTROL.sub(b"", data)


class Terminal:
    """`python -m loglake ARGS` with stdin, stdout and stderr on one pseudo-terminal of the given size."""

    def __init__(self, *args: str, columns: int = 160, rows: int = 50, env: dict[str, str] | None = None) -> None:
        import fcntl
        import pty
        import struct
        import termios

        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        environ = {
            **os.environ,
            "TERM": "xterm-256color",
            "COLUMNS": str(columns),
            "LINES": str(rows),
            "PROMPT_TOOLKIT_NO_CPR": "1",
            **(env or {}),
        }
        environ.pop("NO_COLOR", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "loglake", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=environ,
            close_fds=True,
        )
        os.close(slave)
        self.output = b""
        self.start = 0
        """Where the output after the last `send` begins: `read_until` waits for what the input caused."""

    def read_until(self, wanted: bytes, timeout: float = 60) -> bytes:
        """The text written since the last `send` (`plain`), once `wanted` has appeared in it (or the process
        ended, or time ran out)."""
        deadline = time.monotonic() + timeout
        while wanted not in plain(self.output[self.start :]) and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # the process closed its end
                    break
                if not chunk:
                    break
                self.output += chunk
            elif self.proc.poll() is not None:
                break
        return plain(self.output[self.start :])

    def read_until_after(self, first: bytes, then: bytes, timeout: float = 60) -> bytes:
        """Wait for `first`, then for `then` after it (a result, then the prompt drawn below it)."""
        deadline = time.monotonic() + timeout
        screen = self.read_until(first, timeout)
        while time.monotonic() < deadline:
            at = screen.find(first)
            if at >= 0 and then in screen[at + len(first) :]:
                break
            screen = self.read_until(b"\x00never\x00", 0.3)
            if self.proc.poll() is not None:
                break
        return screen

    def send(self, text: str) -> None:
        self.start = len(self.output)
        os.write(self.master, text.encode())

    def finish(self, timeout: float = 60) -> tuple[int, bytes]:
        """Read to the end; the exit code and every byte the terminal received."""
        self.start = 0
        self.read_until(b"\x00never\x00", timeout)  # to the end: raw bytes, escape sequences included
        code = self.proc.wait(timeout=10)
        os.close(self.master)
        return code, self.output


def on_terminal(lake: Path, *args: str, columns: int = 160) -> tuple[int, str]:
    term = Terminal("--lake", str(lake), *args, columns=columns)
    code, data = term.finish()
    return code, data.decode("utf-8", "replace")
