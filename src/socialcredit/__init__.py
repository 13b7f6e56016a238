"""socialcredit: many schemes, no single score; every score explained, contestable, audited."""

__version__ = "0.1.0"
