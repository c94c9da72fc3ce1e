"""The rules of checkin with no database, no request and no clock of their own: who is admitted,
the floor's steps, the office calendar, the input limits, and the typed errors a rule refuses
with. Modules here import nothing of checkin's above this package.
"""
