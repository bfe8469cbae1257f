"""The places wing: the custody hierarchy's sites and their official codes."""
