"""Reference central service: the contract of central-api.md on SQLite, for the demo and the tests.

Not a production server. `lobby-sync central` runs it; docs/sync.md describes
its staff API, staff page and fault injection.
"""
