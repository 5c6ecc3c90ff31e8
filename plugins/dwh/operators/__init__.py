"""Operators of the two targets: ``local`` (embedded engines) and ``aws`` (provider operators)."""
