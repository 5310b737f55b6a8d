"""A small in-process cache for rendered fragments (per worker process, never shared)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup


class TTLCache:
    """Least-recently-used entries, each valid for ``ttl`` seconds. Thread-safe."""

    def __init__(self, maxsize: int = 256, ttl: float = 60.0) -> None:
        self.maxsize = maxsize
        self.ttl = ttl
        self._data: OrderedDict[Any, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any | None:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            expires, value = item
            if expires < time.monotonic():
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return value

    def set(self, key: Any, value: Any) -> None:
        with self._lock:
            self._data[key] = (time.monotonic() + self.ttl, value)
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


@dataclass(frozen=True)
class ThreadView:
    """A topic's rendered thread and the counts the page shows beside it."""

    html: Markup
    total_visible: int
    stance_counts: dict[str, int]
    page: int = 1
    pages: int = 1
    section: Markup | None = None  # the whole debate section (templates/forum/_debate.html)
