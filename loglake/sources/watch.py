"""Local event-driven mode: file-system events on raw/ → process each object once it is fully written."""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Sequence

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from loglake.sources import is_hidden, matches


class _Events(FileSystemEventHandler):
    def __init__(self, sink: queue.Queue[str]) -> None:
        self.sink = sink

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            return
        path = getattr(event, "dest_path", "") or event.src_path
        if event.event_type in ("created", "modified", "moved", "closed"):
            self.sink.put(os.fsdecode(path))


class Watcher:
    """Debounces events into 'settled' files: unchanged size and mtime for `settle_seconds`.

    Events that arrive while an object is being processed wait in a queue, so none is lost.
    """

    def __init__(
        self,
        root: str,
        suffixes: Sequence[str],
        settle_seconds: float,
        handle: Callable[[list[str]], None],
        skip: Callable[[str, os.stat_result], bool] = lambda path, st: False,
    ) -> None:
        self.root = os.path.realpath(root)
        self.suffixes = tuple(suffixes)
        self.settle = settle_seconds
        self.handle = handle
        self.skip = skip
        self.events: queue.Queue[str] = queue.Queue()
        self.pending: dict[str, tuple[int, int, float]] = {}
        self.stop_event = threading.Event()

    def wanted(self, path: str) -> bool:
        rel = os.path.relpath(path, self.root).replace(os.sep, "/")
        return not rel.startswith("..") and not is_hidden(rel) and matches(rel, self.suffixes)

    def _initial(self) -> None:
        for folder, dirs, files in os.walk(self.root):
            dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
            for name in sorted(files):
                self.events.put(os.path.join(folder, name))

    def _drain(self) -> None:
        while True:
            try:
                path = self.events.get_nowait()
            except queue.Empty:
                return
            if self.wanted(path):
                self.pending.setdefault(path, (-1, -1, 0.0))

    def _settled(self) -> list[str]:
        ready, now = [], time.monotonic()
        for path, (size, mtime, since) in list(self.pending.items()):
            try:
                st = os.stat(path)
            except FileNotFoundError:
                del self.pending[path]
                continue
            if (st.st_size, st.st_mtime_ns) != (size, mtime):
                self.pending[path] = (st.st_size, st.st_mtime_ns, now)
            elif now - since >= self.settle:
                del self.pending[path]
                if not self.skip(path, st):
                    ready.append(path)
        return sorted(ready)

    def run(self, poll: float = 0.1) -> None:
        os.makedirs(self.root, exist_ok=True)
        observer = Observer()
        observer.schedule(_Events(self.events), self.root, recursive=True)
        observer.start()
        try:
            self._initial()
            while not self.stop_event.is_set():
                self._drain()
                ready = self._settled()
                if ready:
                    self.handle(ready)  # together: a burst of small files is committed in groups
                self.stop_event.wait(poll)
        finally:
            observer.stop()
            observer.join(timeout=5)

    def stop(self) -> None:
        self.stop_event.set()
