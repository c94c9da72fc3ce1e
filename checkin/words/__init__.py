"""How the app says things, in Bahasa Indonesia and English: labels for codes, the words of each
error, audit entries, charts, exports and the display's spoken calls. Services send codes and
facts; only this package turns them into words.
"""
