"""Signed QR labels: rendering (SVG, PNG, PDF sheets) and their routes."""
