"""Persistence and custody rules. Imports ledger/, never api/.

This file imports nothing: the custody rules (models/custody/rules.py) are pure and the
auditors' verifier loads them without the database layer. models/tables.py registers
every table."""
