"""The core wing: the database, settings, errors, bulk writes, metrics and timers that every
other wing stands on. Imports nothing of Jejak's but ledger/."""
