"""The log wing: the append-only, verifiable log of each jurisdiction: its tables and reads,
the sequencer that appends in batches, tiles, checkpoints, witnesses, receipts, exports and
keys. Imports core/ and ledger/, never custody/ (a Work brings its own state)."""
