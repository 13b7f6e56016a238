"""Record import in the console. A reporter key uploads a CSV or JSON Lines
file; it is imported a slice at a time between other requests (the ledger
has one connection, and the server answers one request at a time), while
its page shows how far it has got. Then it shows the accepted, duplicate and
rejected counts, and the rejected lines can be downloaded with their reasons.

The rules are the API's batch rules (``Imports.import_reported``): a
reporter writes only to its authority's schemes, and is recorded as the
reporter whatever a line says.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Annotated

import orjson
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from socialcredit.bootstrap import Services
from socialcredit.domain.access import Principal
from socialcredit.entrypoints.views import rejection_view
from socialcredit.entrypoints.web.kit import visit
from socialcredit.errors import NotFound, SocialCreditError
from socialcredit.services.imports import ImportReport

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)

# Lines imported before the server turns to other requests again: each slice
# is one transaction, short enough that a page waits for it unnoticed.
IMPORT_SLICE = 5_000
MAX_UPLOAD_BYTES = 256 * 1024 * 1024
JOBS_KEPT = 20  # finished imports kept per server for their pages and rejects
SUFFIXES = (".csv", ".jsonl", ".ndjson", ".json")


@dataclass
class ImportJob:
    id: str
    key_id: str
    file_name: str
    total_lines: int
    started_at: datetime
    path: Path
    lines_read: int = 0
    report: ImportReport = field(default_factory=ImportReport)
    finished_at: datetime | None = None
    failure: str | None = None
    task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self.finished_at is None

    @property
    def percent(self) -> int:
        if not self.running:
            return 100
        return min(99, self.lines_read * 100 // self.total_lines) if self.total_lines else 0

    def status(self) -> dict[str, object]:
        return {
            "running": self.running,
            "lines_read": self.lines_read,
            "total_lines": self.total_lines,
            "percent": self.percent,
            "accepted": self.report.accepted,
            "duplicates": self.report.duplicates,
            "rejected": len(self.report.rejected),
            "failure": self.failure,
        }


class ImportJobs:
    """The imports this server has run, each seen only by the key that started it."""

    def __init__(self) -> None:
        self._jobs: dict[str, ImportJob] = {}

    def start(self, services: Services, who: Principal, path: Path, name: str) -> ImportJob:
        job = ImportJob(
            id=secrets.token_urlsafe(12),
            key_id=who.key_id,
            file_name=name,
            total_lines=services.imports.files.count(path),
            started_at=services.clock(),
            path=path,
        )
        self._forget_old()
        self._jobs[job.id] = job
        job.task = asyncio.get_running_loop().create_task(_run(job, services, who))
        return job

    def of(self, job_id: str, who: Principal) -> ImportJob:
        job = self._jobs.get(job_id)
        if job is None or job.key_id != who.key_id:
            raise NotFound(f"no import {job_id!r} of this key")
        return job

    def mine(self, who: Principal) -> list[ImportJob]:
        found = [job for job in self._jobs.values() if job.key_id == who.key_id]
        return sorted(found, key=lambda job: job.started_at, reverse=True)

    def _forget_old(self) -> None:
        finished = [job for job in self._jobs.values() if not job.running]
        finished.sort(key=lambda job: job.started_at)
        for job in finished[: max(0, len(finished) - JOBS_KEPT + 1)]:
            del self._jobs[job.id]


async def _run(job: ImportJob, services: Services, who: Principal) -> None:
    try:
        lines = services.imports.files.read(job.path)
        while chunk := list(islice(lines, IMPORT_SLICE)):
            # A key revoked while its import runs stops it: what it sent
            # before stays, as with any batch already accepted.
            services.keys.still_valid(who.key_id)
            job.report.add(services.imports.import_reported(chunk, reporter=who))
            job.lines_read = chunk[-1][0]
            await asyncio.sleep(0)  # let other requests in between slices
    except SocialCreditError as stopped:
        job.failure = str(stopped)
    except Exception:  # the page must say it stopped, not spin for ever
        log.exception("import %s stopped", job.id)
        job.failure = "the import stopped on an unexpected error; the server log has the details"
    finally:
        job.report.rejected.sort(key=lambda rejection: rejection.line)
        job.finished_at = services.clock()
        job.path.unlink(missing_ok=True)


def jobs_of(request: Request) -> ImportJobs:
    found: ImportJobs = request.app.state.import_jobs
    return found


@router.get("/console/import")
async def import_form(request: Request) -> Response:
    seen = visit(request)
    who = seen.require("reporter")
    return seen.page("import.html", jobs=jobs_of(request).mine(who), error=None)


@router.post("/console/import")
async def upload(
    request: Request,
    file: Annotated[UploadFile, File()],
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    seen = visit(request)
    seen.check_form({"csrf": csrf})
    who = seen.require("reporter")
    name = Path(file.filename or "").name
    if not name:
        error = seen.gettext("Choose a CSV or JSON Lines file to import.")
        return seen.page("import.html", status=400, jobs=jobs_of(request).mine(who), error=error)
    path = await _spool(file, name)
    job = jobs_of(request).start(seen.services, who, path, name)
    return seen.redirect(f"/console/imports/{job.id}")


async def _spool(upload: UploadFile, name: str) -> Path:
    """The upload in a file of its own, named so its format is known by suffix
    (a file of another name is read as JSON Lines if it starts with ``{``)."""
    suffix = Path(name).suffix.lower()
    handle, raw = tempfile.mkstemp(prefix="socialcredit-import-", suffix=suffix)
    with os.fdopen(handle, "wb") as out:
        while chunk := await upload.read(1024 * 1024):
            out.write(chunk)
    return Path(raw)


@router.get("/console/imports/{job_id}")
async def job_page(request: Request, job_id: str) -> Response:
    seen = visit(request)
    job = jobs_of(request).of(job_id, seen.require("reporter"))
    return seen.page("import_job.html", job=job, rejected=job.report.rejected[:50])


@router.get("/console/imports/{job_id}/status")
async def job_status(request: Request, job_id: str) -> Response:
    """How far an import has got, for the page's progress bar to poll."""
    seen = visit(request)
    job = jobs_of(request).of(job_id, seen.require("reporter"))
    return JSONResponse(job.status(), headers={"cache-control": "no-store"})


@router.get("/console/imports/{job_id}/rejects.jsonl")
async def rejects(request: Request, job_id: str) -> Response:
    """Each rejected line with its reason, as ``socialcredit import`` writes them."""
    seen = visit(request)
    job = jobs_of(request).of(job_id, seen.require("reporter"))
    body = b"".join(
        orjson.dumps(rejection_view(rejection)) + b"\n" for rejection in job.report.rejected
    )
    # Only safe characters of the uploaded name reach the header.
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", Path(job.file_name).stem) or "import"
    return Response(
        body,
        media_type="application/x-ndjson",
        headers={"content-disposition": f'attachment; filename="{stem}.rejects.jsonl"'},
    )


__all__ = ["MAX_UPLOAD_BYTES", "ImportJob", "ImportJobs", "router"]
