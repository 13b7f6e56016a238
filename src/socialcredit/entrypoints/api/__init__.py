"""The HTTP API: a FastAPI app over one ledger's services (``create_app``)."""

from socialcredit.entrypoints.api.app import create_app

__all__ = ["create_app"]
