"""The schemes in the console: every definition with its versions; for an
admin key, a definition file checked and linted before it is added, then
added as the API's ``POST /schemes`` adds it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from socialcredit.entrypoints.web.kit import Visit, visit
from socialcredit.errors import DefinitionErrors

router = APIRouter(include_in_schema=False)
CONSOLE_ROLES = ("reporter", "reviewer", "admin")
MAX_DEFINITION_CHARS = 1_000_000
Text = Annotated[str, Form(max_length=MAX_DEFINITION_CHARS)]


@router.get("/console/schemes")
async def schemes(request: Request) -> Response:
    seen = visit(request)
    seen.require(*CONSOLE_ROLES)
    return _schemes_page(seen)


def _schemes_page(seen: Visit, *, error: str | None = None, status: int = 200) -> Response:
    definitions = seen.services.definitions
    return seen.page(
        "schemes.html", status=status, latest=definitions.latest(), error=error, text=""
    )


@router.get("/console/schemes/{definition_id}")
async def versions(request: Request, definition_id: str, version: int | None = None) -> Response:
    seen = visit(request)
    seen.require(*CONSOLE_ROLES)
    definitions = seen.services.definitions
    found = definitions.versions(definition_id)
    shown = definitions.version(definition_id, version)
    return seen.page("versions.html", versions=found, shown=shown)


@router.post("/console/schemes/preview")
async def preview(
    request: Request,
    file: Annotated[UploadFile | None, File()] = None,
    text: Text = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """The definition checked and linted, not added: the page shows what the
    linter finds and, if it can be added, a button that adds it."""
    seen = visit(request)
    seen.check_form({"csrf": csrf})
    seen.require("admin")
    source = "pasted text"
    if file is not None and file.filename:
        raw = await file.read(MAX_DEFINITION_CHARS + 1)
        if len(raw) > MAX_DEFINITION_CHARS:
            return _schemes_page(seen, error=seen.gettext("The file is too large."), status=413)
        text, source = raw.decode("utf-8", errors="replace"), file.filename
    if not text.strip():
        error = seen.gettext("Choose a definition file or paste its text.")
        return _schemes_page(seen, error=error, status=400)
    shown = seen.services.definitions.preview(text, source, seen.services.keys.platform())
    return seen.page("preview.html", status=200 if shown.addable else 400, preview=shown)


@router.post("/console/schemes/add")
async def add(
    request: Request, text: Text = "", csrf: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    seen = visit(request)
    seen.check_form({"csrf": csrf})
    seen.require("admin")
    try:
        added = seen.services.definitions.add_text(text, source="console")
    except DefinitionErrors:
        # Another admin added a definition it clashes with since the preview.
        shown = seen.services.definitions.preview(text, "console", seen.services.keys.platform())
        return seen.page("preview.html", status=400, preview=shown)
    first = added[0]
    return seen.redirect(f"/console/schemes/{first.id}?added={first.version}")


__all__ = ["router"]
