"""Scorecards fitted from labelled data (``fit``), the ``socialcredit
scorecard`` commands and the demo's Sesame-style pilot: a plugin (``plugin``)."""
