"""The unit of work: the one place where a change is saved (docs/ARCHITECTURE.md, "Write path").

Services change the session and never commit. The edge — a view, a Socket.IO handler, a CLI
command, a periodic job — ends the unit of work with ``commit()`` (or ``saving(form)`` in a
view with a form), so what happens when a change is saved is found here and in the handlers
registered with this module, not in scattered session listeners.

    with uow.saving(form) as saved:
        topic = services.create_topic(...)
    if saved.ok:
        return redirect(...)

``saving`` commits when the block ends without a ``DomainError``; on one it rolls back, puts
the error's field messages on the form (in the user's language, as the service wrote them)
and keeps it in ``saved.error`` so the view can answer with the right status.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .errors import DomainError
from .extensions import db


def commit() -> None:
    """Save the current transaction (the edge's one call; services never commit)."""
    db.session.commit()


def rollback() -> None:
    """Forget the current transaction."""
    db.session.rollback()


@dataclass
class Saved:
    ok: bool = False
    error: DomainError | None = None
    placed: bool = False  # the error's messages were put on the form's fields

    @property
    def status(self) -> int:
        """The status to answer with: 200 when saved, else the error's (400 for a form error)."""
        if self.ok or self.error is None:
            return 200
        return self.error.status


def place_errors(form, exc: DomainError) -> bool:
    """Copy a service's field errors onto the form; False if none of them fit a field."""
    placed = False
    for name, message in exc.fields.items():
        field = getattr(form, name, None) if form is not None else None
        if field is not None:
            field.errors = [*list(field.errors or []), message]
            placed = True
    return placed


@contextmanager
def saving(form=None) -> Iterator[Saved]:
    """Run the block as one unit of work: commit it, or roll it back on a ``DomainError``.

    Other exceptions roll back and propagate (a bug is a 500, never a partial write).
    """
    saved = Saved()
    try:
        yield saved
    except DomainError as exc:
        rollback()
        saved.error = exc
        saved.placed = place_errors(form, exc)
        return
    except BaseException:
        rollback()
        raise
    commit()
    saved.ok = True
