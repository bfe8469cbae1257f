"""Accounts and permissions: who may do what, where. This wing owns the one policy
table every endpoint is judged by (policy.py)."""
