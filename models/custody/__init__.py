"""The custody wing: the rules a box's custody follows (rules.py, pure) and the
signed scans judged by them and recorded in the log (work.py)."""
