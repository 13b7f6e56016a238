"""The HTTP service: a thin FastAPI adapter over :class:`socialcredit.app.SocialCredit`."""

from socialcredit.api.service import create_app

__all__ = ["create_app"]
