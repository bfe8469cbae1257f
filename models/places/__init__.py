"""The places wing: the custody hierarchy's sites, their official codes (codes.py, pure),
distances (geo.py, pure), and the import of Indonesia's administrative areas
(wilayah.py). May import core/ only."""
