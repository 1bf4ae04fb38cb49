"""Pure import layer of the referentiel: ministry files -> typed records and per-record rejections.

No database and no network here; see README.md in this folder for the formats and the
rejection/warning policy.
"""
