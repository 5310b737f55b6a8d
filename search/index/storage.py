"""The directory of generations (``IndexStore``: naming, health, creating, swapping, removing)
and writing one (``Writer``)."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
import uuid
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.index import LockError

from .analysis import SCHEMA_VERSION, make_schema, to_fields

META_FILE = "borgerdialog.json"
CURRENT_FILE = "CURRENT"
ROLE_LOCK = "WRITER"


class IndexUnavailable(Exception):
    """No usable index: ``reason`` is "missing", "unreadable" or "old_schema"."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class IndexBusy(Exception):
    """Another writer holds the index."""


# --- the directory of generations -----------------------------------------------------------


@dataclass
class Health:
    ok: bool
    reason: str = ""  # "missing", "unreadable", "old_schema"
    detail: str = ""
    generation: str | None = None


class IndexStore:
    """The generations under one ``SEARCH_INDEX_DIR``."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self._opened: dict[str, whoosh_index.Index] = {}
        self._lock = threading.Lock()

    # naming and metadata

    def current_name(self) -> str | None:
        try:
            name = (self.root / CURRENT_FILE).read_text().strip()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return name or None

    def _meta(self, name: str) -> dict:
        return json.loads((self.root / name / META_FILE).read_text())

    def _write_meta(self, name: str, **values) -> None:
        path = self.root / name / META_FILE
        meta = {"schema_version": SCHEMA_VERSION, "complete": False}
        if path.exists():
            meta.update(json.loads(path.read_text()))
        meta.update(values)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(meta))
        os.replace(tmp, path)

    def health(self) -> Health:
        """Is there a current generation of this schema version that Whoosh can open?"""
        name = self.current_name()
        if name is None:
            return Health(False, "missing", f"no index in {self.root}")
        try:
            meta = self._meta(name)
        except FileNotFoundError:
            return Health(False, "old_schema", f"{name} has no {META_FILE}", name)
        except (OSError, ValueError) as exc:
            return Health(False, "unreadable", f"{name}: {exc}", name)
        if meta.get("schema_version") != SCHEMA_VERSION or not meta.get("complete"):
            return Health(
                False,
                "old_schema",
                f"{name} has schema version {meta.get('schema_version')}, "
                f"this code needs {SCHEMA_VERSION}",
                name,
            )
        problem = self._open_problem(name)
        if problem:
            self.forget(name)
            return Health(False, "unreadable", f"{name}: {problem}", name)
        return Health(True, generation=name)

    def _open_problem(self, name: str) -> str | None:
        """Why Whoosh cannot open this generation, or None."""
        # Whoosh leaves the file it failed on to the garbage collector: not worth a warning.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            try:
                ix = self.open(name)
                with ix.reader() as reader:
                    reader.doc_count()
            except Exception as exc:  # noqa: BLE001 — any failure to open means "rebuild it"
                return f"{type(exc).__name__}: {exc}"
        return None

    def open(self, name: str) -> whoosh_index.Index:
        with self._lock:
            ix = self._opened.get(name)
            if ix is None:
                ix = FileStorage(str(self.root / name)).open_index()
                self._opened[name] = ix
            return ix

    def forget(self, name: str) -> None:
        with self._lock:
            self._opened.pop(name, None)

    def current(self) -> tuple[str, whoosh_index.Index]:
        """The current generation, or ``IndexUnavailable``."""
        health = self.health_cached()
        if not health.ok:
            raise IndexUnavailable(health.reason, health.detail)
        return health.generation, self.open(health.generation)

    _health_key: tuple | None = None
    _health: Health | None = None

    def health_cached(self) -> Health:
        """``health()``, redone only when ``CURRENT`` or the generation's metadata changed."""
        key = (self._stat(self.root / CURRENT_FILE),)
        name = self.current_name()
        if name:
            key += (self._stat(self.root / name / META_FILE),)
        if key != self._health_key or self._health is None:
            self._health = self.health()
            self._health_key = key
        return self._health

    @staticmethod
    def _stat(path: Path) -> tuple | None:
        try:
            st = path.stat()
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    # making generations

    def create_generation(self) -> tuple[str, whoosh_index.Index]:
        """A new, empty, incomplete generation (not current until ``swap``)."""
        self.root.mkdir(parents=True, exist_ok=True)
        name = "g" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        path = self.root / name
        path.mkdir()
        ix = FileStorage(str(path)).create_index(make_schema())
        self._write_meta(
            name,
            schema_version=SCHEMA_VERSION,
            complete=False,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        with self._lock:
            self._opened[name] = ix
        return name, ix

    def mark_complete(self, name: str) -> None:
        self._write_meta(name, complete=True)

    def swap(self, name: str) -> str | None:
        """Make ``name`` current in one atomic step; returns the generation it replaced."""
        old = self.current_name()
        tmp = self.root / f".{CURRENT_FILE}.{uuid.uuid4().hex[:8]}"
        tmp.write_text(name + "\n")
        os.replace(tmp, self.root / CURRENT_FILE)
        return old

    def generations(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and p.name.startswith("g"))

    def remove_old(self, keep: Iterable[str], min_age_s: float = 6 * 3600) -> list[str]:
        """Delete generations other than ``keep``; incomplete ones only once ``min_age_s`` old
        (another process may be filling one)."""
        keep = set(keep)
        removed = []
        for name in self.generations():
            if name in keep:
                continue
            path = self.root / name
            try:
                complete = bool(self._meta(name).get("complete"))
            except (OSError, ValueError):
                complete = False
            if not complete and time.time() - path.stat().st_mtime < min_age_s:
                continue
            self.forget(name)
            shutil.rmtree(path, ignore_errors=True)
            removed.append(name)
        return removed

    def size_bytes(self, name: str) -> int:
        path = self.root / name
        return sum(p.stat().st_size for p in path.iterdir() if p.is_file()) if path.is_dir() else 0

    def role_lock(self):
        self.root.mkdir(parents=True, exist_ok=True)
        return FileStorage(str(self.root)).lock(ROLE_LOCK)


# --- writing --------------------------------------------------------------------------------


class Writer:
    """Adds, replaces and deletes documents in one generation; ``commit`` makes them visible."""

    def __init__(self, ix: whoosh_index.Index, timeout: float = 5.0, **kwargs) -> None:
        try:
            self._w = ix.writer(timeout=timeout, **kwargs)
        except LockError as exc:
            raise IndexBusy(str(exc)) from None
        self.count = 0

    def upsert(self, doc: dict) -> None:
        self._w.update_document(**to_fields(doc))
        self.count += 1

    def add(self, doc: dict) -> None:
        """Add without looking for an older copy (only for a fresh generation)."""
        self._w.add_document(**to_fields(doc))
        self.count += 1

    def delete(self, doc_id: str) -> None:
        self._w.delete_by_term("id", doc_id)
        self.count += 1

    def delete_topic(self, topic_id: str) -> None:
        """Delete a topic's document and every post document in it."""
        self._w.delete_by_term("topic", topic_id)
        self.count += 1

    def commit(self, optimize: bool = False) -> None:
        self._w.commit(optimize=optimize)

    def cancel(self) -> None:
        self._w.cancel()


def doc_count(ix: whoosh_index.Index) -> int:
    with ix.reader() as r:
        return r.doc_count()


def fingerprint(ix: whoosh_index.Index) -> dict[str, dict]:
    """Everything a document contributes to the index: stored fields and (field, term, weight).

    Two indexes with equal fingerprints answer every query the same way (used by the tests
    that compare an index followed through a crash with a fresh rebuild).
    """
    with ix.reader() as r:
        docs: dict[int, dict] = {n: {"stored": dict(f), "terms": set()} for n, f in r.iter_docs()}
        for fieldname in r.indexed_field_names():
            for termbytes in r.lexicon(fieldname):
                m = r.postings(fieldname, termbytes)
                while m.is_active():
                    if m.id() in docs:
                        docs[m.id()]["terms"].add((fieldname, termbytes, round(m.weight(), 4)))
                    m.next()
    return {d["stored"]["id"]: d for d in docs.values()}
