"""The transactions of checkin, one module per domain.

Each public function that writes commits once, or not at all; a rule that refuses raises a
:class:`checkin.domain.errors.ServiceError` and stores nothing. Import the module you need
(``from checkin.services import checkins``): this package re-exports nothing.
"""
