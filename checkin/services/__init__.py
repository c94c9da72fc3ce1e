"""The operations of checkin, one module per domain.

Entry points own the transaction. A view, an API view or a command runs the service calls of
one request in ``with transaction.owned():`` (:mod:`checkin.services.transaction`), which
commits once when the block ends and rolls everything back if anything in it raises. Service
functions and their helpers only add to the session: none calls ``commit()`` or ``rollback()``,
so a rule that refuses raises a :class:`checkin.domain.errors.ServiceError` and, caught outside
the block, stores nothing. A retry inside a service keeps its caller's transaction with a
savepoint (``db.session.begin_nested()``); a race a unique key settles is answered by the entry
point after its rollback (``transaction.owned_after_race``). ``tests/test_transactions.py``
finds any other commit or rollback here; the few allowed are listed there with the reason.

Import the module you need (``from checkin.services import checkins``): this package
re-exports nothing.
"""
