"""The ``flask --app checkin`` commands of an office's IT officer, and the demo's data."""
