"""The error catalogue: every refusal the API makes has a stable code, rendered as problem+json.

Clients branch on ``code``; ``title`` is a short English summary and ``detail`` explains this case.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

import asyncpg
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from backend.lib import outages
from media_store import MediaStoreUnavailable

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True, slots=True)
class ErrorCode:
    code: str
    status: int
    title: str


class Errors:
    """Stable codes. Add new ones here; never rename one that shipped."""

    VALIDATION = ErrorCode("validation.failed", 400, "The request is not valid")
    BAD_REQUEST = ErrorCode("request.bad", 400, "Bad request")
    AUTH_REQUIRED = ErrorCode("auth.required", 401, "Authentication required")
    AUTH_INVALID_TOKEN = ErrorCode("auth.invalid_token", 401, "The access token is not valid")
    AUTH_INVALID_CREDENTIALS = ErrorCode("auth.invalid_credentials", 401, "Wrong username or password")
    PASSWORD_RESET_INVALID = ErrorCode(
        "password_reset.invalid",
        410,
        "This password link is used, expired or replaced: ask an admin for a new one",
    )
    AUTH_REFRESH_INVALID = ErrorCode("auth.refresh_invalid", 401, "The refresh token is not valid")
    AUTH_REFRESH_REUSED = ErrorCode(
        "auth.refresh_reused", 401, "The refresh token was already used; the session is revoked"
    )
    AUTH_ACCOUNT_DISABLED = ErrorCode("auth.account_disabled", 401, "The account is disabled")
    AUTH_ACCESS_EXPIRED = ErrorCode(
        "auth.access_expired", 401, "The account's access has ended (its invitation expired or was revoked)"
    )
    RATE_LIMITED = ErrorCode("rate_limited", 429, "Too many requests; slow down")
    AUTH_LOCKED = ErrorCode("auth.locked", 429, "Too many failed sign-ins; try again later")
    FORBIDDEN = ErrorCode("auth.forbidden", 403, "Not allowed")
    NOT_FOUND = ErrorCode("not_found", 404, "Not found")
    OVERSIGHT_READ_ONLY = ErrorCode(
        "oversight.read_only", 403, "Department oversight reads this record; only its own unit changes it"
    )
    METHOD_NOT_ALLOWED = ErrorCode("request.method_not_allowed", 405, "Method not allowed")
    CONFLICT = ErrorCode("conflict", 409, "Conflict")
    DUPLICATE = ErrorCode("conflict.duplicate", 409, "Already exists")
    IDEMPOTENCY_MISMATCH = ErrorCode(
        "idempotency.mismatch", 409, "The idempotency key was used for a different request"
    )
    PRECONDITION_FAILED = ErrorCode("request.precondition_failed", 412, "Precondition failed")
    TOO_LARGE = ErrorCode("request.too_large", 413, "The request body is too large")
    UNSUPPORTED_MEDIA = ErrorCode("request.unsupported_media_type", 415, "Unsupported media type")
    USER_LAST_ADMIN = ErrorCode("user.last_admin", 409, "At least one active admin must remain")
    USER_OWN_ADMIN = ErrorCode(
        "user.own_admin", 409, "An admin cannot remove their own admin role or disable their own account"
    )
    UNIT_NOT_FOUND = ErrorCode("unit.not_found", 422, "A referenced unit does not exist")
    USER_NOT_FOUND = ErrorCode("user.not_found", 422, "A referenced user does not exist")
    UNIT_IN_USE = ErrorCode("unit.in_use", 409, "The unit still has records or members that depend on it")
    UNIT_CYCLE = ErrorCode("unit.cycle", 422, "The unit tree would become a loop")
    DELEGATION_INVALID = ErrorCode("delegation.invalid", 422, "The delegation is not valid")
    ITEM_CODE_IMMUTABLE = ErrorCode(
        "item.code_immutable", 422, "An item's code cannot change: records cite it; add a new item instead"
    )
    CERTIFICATE_INVALID = ErrorCode("certificate.invalid", 422, "The enforcement certificate is not valid")
    CERTIFICATE_TRANSITION = ErrorCode(
        "certificate.invalid_transition", 409, "The certificate's status does not allow this change"
    )
    CERTIFICATE_TOKEN_INVALID = ErrorCode(
        "certificate.token_invalid", 404, "The code was not issued by the server or was altered"
    )
    TRAINING_NOT_ON_LIST = ErrorCode(
        "training.not_on_list", 422, "The officer is not on the training's list (or the card is not genuine)"
    )
    TRAINING_NO_EXAM = ErrorCode("training.no_exam", 422, "The training has no exam")
    TRAINING_IMPORT_INVALID = ErrorCode(
        "training.import_invalid", 422, "Some rows cannot be matched or are wrong; nothing was written"
    )
    ASSESSMENT_CHANGED = ErrorCode(
        "assessment.changed", 409, "The annual run's result changed since the preview"
    )
    CERTIFICATE_NOT_OFFICER = ErrorCode(
        "certificate.not_officer", 422, "Only officers hold enforcement certificates"
    )
    ITEM_NOT_FOUND = ErrorCode("item.not_found", 422, "The enforcement item does not exist")
    ITEM_NOT_AUTHORISED = ErrorCode(
        "item.not_authorised",
        422,
        "The unit may not act on this item (not its own, or not delegated in effect)",
    )
    ACTION_TWO_OFFICERS = ErrorCode(
        "action.two_officers_required", 422, "On-site enforcement needs at least two certified officers"
    )
    ACTION_OFFICER_NOT_IN_UNIT = ErrorCode(
        "action.officer_not_in_unit", 422, "An officer named does not belong to the acting unit"
    )
    ACTION_RECORDER_NOT_LISTED = ErrorCode(
        "action.recorder_not_listed", 422, "The recording officer must be one of the officers named"
    )
    ACTION_IN_FUTURE = ErrorCode("action.occurred_in_future", 422, "The time of the act is in the future")
    CASE_ACTIONS_INVALID = ErrorCode(
        "case.actions_invalid", 422, "The actions do not belong to this case's unit"
    )
    CASE_REVIEW_REQUIRED = ErrorCode(
        "case.review_required", 422, "A major case needs an approved legal review before a decision"
    )
    CASE_CRIMINAL_THRESHOLD = ErrorCode(
        "case.criminal_threshold",
        422,
        "The amount involved reaches the criminal threshold: transfer the case",
    )
    CASE_PROPOSAL_MISSING = ErrorCode(
        "case.proposal_missing", 422, "Record the proposed decision before asking for legal review"
    )
    CASE_RECORDING_MISSING = ErrorCode(
        "case.recording_missing",
        422,
        "An action of this case needs its audio-video recording (全过程记录) before a decision",
    )
    CASE_HEARING_NOTICE_LATE = ErrorCode(
        "case.hearing_notice_late", 422, "The hearing notice must reach the party 7 working days ahead"
    )
    CASE_HEARING_REQUEST_LATE = ErrorCode(
        "case.hearing_request_late", 422, "The party asked for a hearing after the 5 working days"
    )
    CLOCK_EXTENSION_INVALID = ErrorCode(
        "clock.extension_invalid", 422, "An extension needs a running clock and a later date"
    )
    PUBLICATION_NOT_DECIDED = ErrorCode("publication.not_decided", 422, "Only a decided case is published")
    PUBLICATION_EXISTS = ErrorCode("publication.exists", 409, "The decision is already published")
    PUBLICATION_WITHDRAWN = ErrorCode("publication.withdrawn", 409, "The publication is already withdrawn")
    CASE_INVALID_TRANSITION = ErrorCode("case.invalid_transition", 422, "This step is not allowed now")
    CASE_VERSION_CONFLICT = ErrorCode(
        "case.version_conflict", 409, "The case was changed by someone else; reload it and try again"
    )
    EVIDENCE_CHECKSUM = ErrorCode(
        "evidence.checksum_mismatch", 422, "The body's SHA-256 differs from the one declared"
    )
    EVIDENCE_TYPE_MISMATCH = ErrorCode(
        "evidence.type_mismatch", 415, "The content is not of the declared type"
    )
    EVIDENCE_IMAGE_REJECTED = ErrorCode("evidence.image_rejected", 422, "The image is damaged or too large")
    EVIDENCE_NOT_VIDEO = ErrorCode("evidence.not_video", 409, "Only a video has a poster frame")
    EVIDENCE_NOT_UPLOADER = ErrorCode(
        "evidence.not_uploader", 403, "Only the officer who recorded the video sets its poster frame"
    )
    UPLOAD_TRUNCATED = ErrorCode("upload.truncated", 400, "The body ended before its declared length")
    UPLOAD_OFFSET = ErrorCode(
        "upload.offset_mismatch", 409, "Upload-Offset does not match the bytes received"
    )
    UPLOAD_CHECKSUM = ErrorCode("upload.checksum_mismatch", 460, "The chunk's checksum does not match")
    UPLOAD_GONE = ErrorCode("upload.gone", 410, "The upload expired or was terminated")
    RANGE_NOT_SATISFIABLE = ErrorCode(
        "request.range_not_satisfiable", 416, "The range is outside the content"
    )
    EVIDENCE_INTEGRITY = ErrorCode(
        "evidence.integrity_failed",
        409,
        "The stored bytes no longer match the evidence's recorded SHA-256; they are not served",
    )
    EVIDENCE_OBJECT_MISSING = ErrorCode(
        "evidence.object_missing", 409, "The evidence's stored object is missing from the store"
    )
    INVITATION_INVALID = ErrorCode("invitation.invalid", 404, "This invitation link is not valid")
    INVITATION_USED = ErrorCode("invitation.used", 410, "This invitation link was already used")
    INVITATION_EXPIRED = ErrorCode("invitation.expired", 410, "This invitation link has expired")
    INVITATION_REVOKED = ErrorCode("invitation.revoked", 410, "This invitation was revoked")
    NOMINATION_DECIDED = ErrorCode("nomination.decided", 409, "This nomination was already decided")
    SPOT_CHECK_NO_OFFICER = ErrorCode(
        "spot_check.no_officer_on_duty", 422, "No officer in your scope is on duty now"
    )
    SPOT_CHECK_LATE = ErrorCode("spot_check.late", 422, "The answer arrived after the deadline")
    SPOT_CHECK_STALE = ErrorCode(
        "spot_check.stale_capture", 422, "The photo was taken before the spot-check was requested"
    )
    SPOT_CHECK_STATE = ErrorCode("spot_check.invalid_state", 409, "Not possible in the spot-check's state")
    DOCUMENT_STATE = ErrorCode("document.invalid_state", 409, "Not possible in the document's state")
    DOCUMENT_CLOSED = ErrorCode("document.closed", 409, "The document is closed")
    DOCUMENT_SIGNER = ErrorCode(
        "document.signing_right_required", 403, "Only a supervisor with signing rights (签发权) may issue"
    )
    DOCUMENT_SECOND_PERSON = ErrorCode(
        "document.second_person_required", 403, "The drafter cannot also issue the document"
    )
    DOCUMENT_REVIEW_WINDOW = ErrorCode(
        "document.review_window_passed", 422, "The time to ask for a review (复查申请) has passed"
    )
    DOCUMENT_EVIDENCE = ErrorCode(
        "document.evidence_invalid", 422, "An attachment named is not attached to this document"
    )
    DOCUMENT_PDF_MISSING = ErrorCode("document.pdf_missing", 404, "The document has no issued PDF")
    CORRECTIVE_STATE = ErrorCode(
        "corrective_action.invalid_state", 409, "Not possible in the corrective action's state"
    )
    CHANNEL_STATE = ErrorCode("channel_item.invalid_state", 409, "Not possible in the channel item's state")
    RETENTION_NOT_DUE = ErrorCode(
        "retention.not_due", 409, "Evidence named for disposal is not due (kept, held or under a lawsuit)"
    )
    HOLD_RELEASED = ErrorCode("legal_hold.released", 409, "The hold was already released")
    SHARE_INVALID = ErrorCode("share.invalid", 404, "This share link is not valid")
    SHARE_EXPIRED = ErrorCode("share.expired", 410, "This share link has expired")
    SHARE_REVOKED = ErrorCode("share.revoked", 410, "This share link was revoked")
    SHARE_LOCKED = ErrorCode("share.locked", 410, "This share link was locked after too many wrong codes")
    SHARE_CODE_REQUIRED = ErrorCode("share.code_required", 401, "This share link needs its access code")
    SHARE_CODE_WRONG = ErrorCode("share.code_wrong", 401, "The access code is wrong")
    SHARE_SESSION = ErrorCode("share.session_invalid", 401, "Open the share link again")
    SHARE_EMPTY = ErrorCode("share.empty", 422, "Nothing to share: no evidence is named or left")
    REPORT_MONTH_OPEN = ErrorCode(
        "report.month_not_over", 409, "The month is not over: its report is drafted on the 1st of the next"
    )
    REPORT_STATE = ErrorCode("report.invalid_state", 409, "Not possible in the report's state")
    REPORT_NARRATIVE = ErrorCode(
        "report.narrative_missing", 422, "The report's narrative sections must be written before submission"
    )
    REPORT_FIGURE = ErrorCode("report.figure_unknown", 400, "No such figure or indicator")
    REVIEW_NO_CASES = ErrorCode("case_review.no_cases", 422, "The unit closed no case in that period")
    REVIEW_NOT_DRAWN = ErrorCode("case_review.case_not_drawn", 422, "The case is not in this draw")
    REVIEW_SCORED = ErrorCode("case_review.already_scored", 409, "This case file is already scored")
    IMPORT_UNREADABLE = ErrorCode("import.unreadable", 422, "The file cannot be read as a table")
    IMPORT_COLUMNS = ErrorCode("import.missing_columns", 422, "The header row lacks a required column")
    IMPORT_TOO_MANY_ROWS = ErrorCode(
        "import.too_many_rows", 422, "The file has more rows than one import takes"
    )
    IMPORT_ROWS_REFUSED = ErrorCode("import.rows_refused", 422, "Some rows are refused; nothing was written")
    GROUP_EXISTS = ErrorCode("leading_group.exists", 409, "The unit already has a leading group")
    GROUP_VERSION_CONFLICT = ErrorCode(
        "leading_group.version_conflict",
        409,
        "The group was changed by someone else; reload it and try again",
    )
    INTERNAL = ErrorCode("internal", 500, "Internal server error")
    UNAVAILABLE = ErrorCode("service.unavailable", 503, "A backing service is unavailable")


class AppError(Exception):
    """A refusal from the catalogue, with a human detail and optional extra members."""

    def __init__(self, error: ErrorCode, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or error.title)
        self.error = error
        self.detail = detail or error.title
        self.extra = extra
        self.headers: dict[str, str] = {}

    def with_headers(self, **headers: str) -> AppError:
        self.headers.update(headers)
        return self


def unavailable(service: str, detail: str, retry_after_s: int) -> AppError:
    """503: ``service`` (database, media, channels) is away; the client retries after a while."""
    return AppError(Errors.UNAVAILABLE, detail, service=service).with_headers(
        **{"Retry-After": str(retry_after_s)}
    )


def problem(
    error: ErrorCode, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": f"urn:fieldwatch:problem:{error.code}",
        "title": error.title,
        "status": error.status,
        "detail": detail,
        "code": error.code,
        **extra,
    }
    return Response(content=body, status_code=error.status, media_type=PROBLEM_JSON, headers=headers)


def _app_error(_: Request[Any, Any, Any], exc: AppError) -> Response[dict[str, Any]]:
    headers = dict(exc.headers)
    if exc.error.status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="fieldwatch"')
    return problem(exc.error, exc.detail, headers=headers, **exc.extra)


def _validation(_: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    fields = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            fields.append({k: v for k, v in item.items() if k in ("key", "message", "source")})
    return problem(Errors.VALIDATION, str(exc.detail), errors=fields)


_BY_STATUS = {
    400: Errors.BAD_REQUEST,
    401: Errors.AUTH_REQUIRED,
    403: Errors.FORBIDDEN,
    404: Errors.NOT_FOUND,
    405: Errors.METHOD_NOT_ALLOWED,
    409: Errors.CONFLICT,
    413: Errors.TOO_LARGE,
    415: Errors.UNSUPPORTED_MEDIA,
    503: Errors.UNAVAILABLE,
}


def _http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    error = _BY_STATUS.get(exc.status_code) or ErrorCode("http.error", exc.status_code, "Error")
    detail = exc.detail if exc.status_code < 500 else error.title
    return problem(error, detail or error.title, headers=dict(exc.headers or {}))


def _internal(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    request.logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(Errors.INTERNAL, "An unexpected error occurred; it has been logged.")


def _store_unavailable(request: Request[Any, Any, Any], exc: MediaStoreUnavailable) -> Response[Any]:
    request.logger.warning("object store unavailable on %s %s: %s", request.method, request.url.path, exc)
    return _app_error(
        request,
        unavailable(
            "media", "The evidence store is unavailable; send it again shortly.", outages.STORE_RETRY_AFTER_S
        ),
    )


def _database_error(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    """Driver errors that reach a handler: an outage or a busy SQLite is 503, anything else a bug."""
    if outages.database_unreachable(exc) or outages.database_busy(exc):
        request.logger.warning("database unavailable on %s %s: %r", request.method, request.url.path, exc)
        return _app_error(
            request,
            unavailable(
                "database", "The database is unavailable; try again shortly.", outages.DATABASE_RETRY_AFTER_S
            ),
        )
    return _internal(request, exc)


EXCEPTION_HANDLERS = {
    AppError: _app_error,
    ValidationException: _validation,
    NotAuthorizedException: _http,
    PermissionDeniedException: _http,
    NotFoundException: _http,
    MethodNotAllowedException: _http,
    HTTPException: _http,
    HTTP_500_INTERNAL_SERVER_ERROR: _internal,
    MediaStoreUnavailable: _store_unavailable,
    sqlite3.OperationalError: _database_error,
    asyncpg.PostgresError: _database_error,
    asyncpg.InterfaceError: _database_error,
    ConnectionError: _database_error,
}

__all__ = ["EXCEPTION_HANDLERS", "PROBLEM_JSON", "AppError", "ErrorCode", "Errors", "problem", "unavailable"]
