"""The one place a transaction ends: an entry point's unit of work, committed once or not at all.

A view, an API view or a command wraps the service calls of one request in :func:`owned`; the
service functions and their helpers only add to the session. ``tests/test_transactions.py``
finds any ``commit()`` or ``rollback()`` elsewhere in ``checkin/services``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from sqlalchemy.exc import IntegrityError

from checkin.extensions import db

T = TypeVar("T")

# An owned block inside another would commit the outer one's work half done.
_owned = ContextVar("owned", default=False)


@contextmanager
def owned() -> Iterator[None]:
    """Commit what the block added to the session when it ends; roll it all back if it raises.

    Also a decorator (``@transaction.owned()``). A refusal raised inside the block stores
    nothing: catch it outside the block, not inside. Blocks do not nest.
    """
    if _owned.get():
        raise RuntimeError("this transaction has an owner already")
    token = _owned.set(True)
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        _owned.reset(token)


def owned_after_race(work: Callable[[], T], after_race: Callable[[IntegrityError], T]) -> T:
    """Run ``work`` in a transaction of its own; if a unique key refuses it (another transaction
    stored the same thing first), roll back and answer with ``after_race`` in a new one.

    The unique key is the backstop, not a look-up before every write: the first try costs
    nothing more than the work.
    """
    try:
        with owned():
            return work()
    except IntegrityError as lost:
        with owned():
            return after_race(lost)
