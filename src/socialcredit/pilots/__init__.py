"""The pilots: optional features registered as plugins through the same hooks
a third-party package uses (``socialcredit.plugins``)."""
