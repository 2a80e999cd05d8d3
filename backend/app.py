"""The application factory. Nothing runs at import time."""

from __future__ import annotations

import asyncio
import logging
import mimetypes
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from litestar import Litestar, Request, Router
from litestar.channels import ChannelsPlugin
from litestar.config.compression import CompressionConfig
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.static_files import create_static_files_router
from piccolo.engine.base import Engine

from backend.accounts import services as accounts_services
from backend.accounts.capability_controllers import CapabilityController
from backend.accounts.controllers import (
    AuthController,
    CertificateController,
    MeController,
    PublicCertificateApi,
    PublicCertificatePage,
    UserController,
    auth_rate_limit,
    public_check_rate_limit,
)
from backend.accounts.middleware import JWTAuthMiddleware
from backend.actions import services as actions_services
from backend.actions.controllers import ActionController
from backend.actions.evidence import ActionParent
from backend.admin.controllers import ImportController
from backend.alerts.controllers import AlertController, SosController
from backend.audit import heads as audit_heads
from backend.audit import services as audit_services
from backend.audit.controllers import AuditController, AuditKeyController
from backend.cases import clocks as case_clocks
from backend.cases import services as cases_services
from backend.cases.controllers import CaseController, ClockController
from backend.cases.evidence import CaseParent
from backend.channels import services as channels_services
from backend.channels.controllers import ChannelController
from backend.corrective import services as corrective_services
from backend.corrective.controllers import CorrectiveController
from backend.db import bind, engine_from_url, is_postgres
from backend.documents import services as documents_services
from backend.documents.controllers import DocumentController
from backend.evidence import parents as evidence_parents
from backend.evidence import verify as evidence_verify
from backend.evidence.backfill import backfill_periodically
from backend.evidence.controllers import EvidenceController, EvidenceUploadController, UploadController
from backend.evidence.rendering import render_periodically
from backend.evidence.sweep import sweep_periodically
from backend.health import healthz, readyz
from backend.lib.auth import CurrentUser, TokenService
from backend.lib.errors import EXCEPTION_HANDLERS
from backend.lib.headers import add_security_headers, allow_every_method
from backend.lib.requests import AppRequest, refuse_nul_in_url
from backend.lib.signing import IntegrityKey, load_or_create
from backend.live import services as live_services
from backend.live.channel import channels_backend
from backend.live.controllers import PositionController, live_socket
from backend.live.hub import Hub
from backend.live.publish import Publisher, channel_name
from backend.meetings.controllers import LeadingGroupController, MeetingController
from backend.org import services as org_services
from backend.org.controllers import ItemController, PublicUnitController, UnitController
from backend.publication import services as publication_services
from backend.publication.controllers import (
    PublicationController,
    PublicController,
    public_page,
    public_rate_limit,
    public_record,
)
from backend.reports import services as report_services
from backend.reports.controllers import CaseReviewController, ReportController
from backend.retention import services as retention_services
from backend.retention.controllers import RetentionController
from backend.settings import Settings, get_settings
from backend.sharing.controllers import ShareController, SharedController, ShareOpenController
from backend.summary.controllers import SummaryController, TodayController
from backend.supervision import services as supervision_services
from backend.supervision.controllers import (
    InvitationController,
    NominationController,
    NominationFormController,
    RosterController,
    SpotCheckController,
    nomination_rate_limit,
)
from backend.supervision.evidence import SpotCheckParent
from backend.training.controllers import AssessmentController, TrainingController
from backend.webhooks import services as webhook_services
from backend.webhooks.controllers import WebhookController
from backend.workdays import services as workdays_services
from backend.workdays.controllers import CalendarController
from media_store import MediaStore, MediaStoreUnavailable, open_store


async def _prune_periodically(settings: Settings) -> None:
    """Drop live events and position history past their retention, and stale sign-in failure counts
    (most of them for names that do not exist), hourly."""
    day = 86_400
    while True:
        try:
            await live_services.prune(
                settings.event_retention_days * day, settings.position_retention_days * day
            )
            await accounts_services.prune_login_failures(settings.login_lockout_s)
        except Exception:  # a failed prune must not stop the app; it is retried next hour
            logging.getLogger(__name__).exception("pruning live events failed")
        await asyncio.sleep(3600)


async def _every(seconds: float, what: str, job: Callable[[], Awaitable[object]]) -> None:
    """Run ``job`` now and then every ``seconds``, whether or not anyone watches; a failure is
    logged and retried at the next tick, never ends the loop."""
    while True:
        try:
            await job()
        except Exception:
            logging.getLogger(__name__).exception("%s failed", what)
        await asyncio.sleep(seconds)


async def _sign_tree_heads(key: IntegrityKey, settings: Settings, tick_s: float = 15) -> None:
    """Sign a tree head of the audit log every ``audit_sign_interval_s`` seconds when it grew, and
    sooner once ``audit_sign_every`` entries are unsigned: what an insider could rewrite unnoticed
    is at most what came after the newest head."""
    log = logging.getLogger(__name__)
    last = asyncio.get_running_loop().time()
    while True:
        await asyncio.sleep(min(tick_s, settings.audit_sign_interval_s))
        now = asyncio.get_running_loop().time()
        try:
            due = now - last >= settings.audit_sign_interval_s
            if await audit_heads.sign(key, min_new=1 if due else settings.audit_sign_every) or due:
                last = now
        except Exception:  # retried at the next tick
            log.exception("signing an audit tree head failed")


async def _check_object_lock(store: MediaStore, settings: Settings) -> None:
    """Refuse to start on an evidence bucket whose object lock is not the one required; a store that
    does not answer yet is left to the readiness check (the app starts and reports it)."""
    try:
        problem = await retention_services.lock_problem(store, settings)
    except MediaStoreUnavailable as exc:
        logging.getLogger(__name__).warning("object lock not checked at start: %s", exc)
        return
    if problem is not None:
        raise RuntimeError(
            f"evidence store {store.description}: {problem} (FIELDWATCH_EVIDENCE_LOCK_MODE / _DAYS)"
        )


def register_domains() -> None:
    """Fill the extension points lower domains offer to higher ones."""
    audit_services.register_check(evidence_verify.check_records)
    # Adding evidence to these is an enforcement act: an officer needs a valid certificate.
    evidence_parents.register("action", ActionParent(), enforcement=True)
    evidence_parents.register("case", CaseParent(), enforcement=True)
    evidence_parents.register("spot_check", SpotCheckParent(), enforcement=True)
    # Who sees a document or a task sees its attachments. An officer answering a document for the
    # unit acts in office; a task's proof of completion is the unit's, not an enforcement act.
    for parent_type, find, enforcement in (
        (documents_services.PARENT_TYPE, documents_services.evidence_parent, True),
        (corrective_services.PARENT_TYPE, corrective_services.evidence_parent, False),
        (channels_services.PARENT_TYPE, channels_services.evidence_parent, False),
    ):
        evidence_parents.register(parent_type, evidence_parents.LookedUpParent(find), enforcement=enforcement)
    workdays_services.on_year_loaded(documents_services.recompute_provisional)
    supervision_services.on_review_failed(corrective_services.from_failed_spot_check)
    supervision_services.on_appeal_overturned(corrective_services.withdraw_for_spot_check)
    actions_services.link_cases(cases_services.cases_of_actions)
    cases_services.on_decided(publication_services.start_clock)
    # What keeps a unit from being deactivated: its open cases and its active members.
    org_services.register_blocker("open_cases", cases_services.open_cases_of_unit)
    org_services.register_blocker("active_members", accounts_services.active_members_of_unit)


def configure_domains(settings: Settings) -> None:
    """Hand the domains the settings their rules need outside a request (the periodic checks)."""
    case_clocks.configure(settings.clock_warn_days)
    actions_services.configure_recording(
        settings.recording_kinds, settings.recording_item_kinds, settings.recording_grace_h
    )
    publication_services.configure(settings.publication_days, settings.withdrawal_days)


async def check_clocks(events: Publisher) -> None:
    """One pass of the statutory clocks and of acts still without their recording."""
    await case_clocks.check(events)
    await actions_services.check_recordings(events)


def _value(value: Any) -> Provide:
    """A dependency that is the same object for every request."""

    def provide() -> Any:
        return value

    return Provide(provide, use_cache=True, sync_to_thread=False)


async def _current_user(request: Request[CurrentUser, Any, Any]) -> CurrentUser:
    return request.user


def create_app(
    settings: Settings | None = None, *, engine: Engine | None = None, store: MediaStore | None = None
) -> Litestar:
    """The app for ``settings`` (default: from the environment). ``engine`` and ``store`` replace the
    database and the object store the settings name; handlers receive every shared part through
    dependencies (settings, store, tokens, events, hub, channels, user)."""
    mimetypes.add_type("application/manifest+json", ".webmanifest")
    settings = settings or get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = engine or engine_from_url(settings.database_url)
    bind(engine)
    register_domains()
    configure_domains(settings)
    store = store or open_store(
        settings.media_url, spool_dir=str(settings.data_dir / "tmp"), public_url=settings.s3_public_url
    )
    tokens = TokenService.for_settings(settings)
    integrity = load_or_create(settings.integrity_key_path)
    channel = channel_name(settings.redis_prefix)
    backend = channels_backend(settings.redis_url)  # keeps reconnecting: the app runs without Redis
    channels = ChannelsPlugin(backend=backend, channels=[channel])
    events = Publisher(channels, channel)
    hub = Hub(
        channels,
        channel,
        max_queue=settings.live_max_queue,
        heartbeat_s=settings.live_heartbeat_s,
        backend=backend,
    )

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if is_postgres(engine):
            await engine.start_connection_pool()
        await _check_object_lock(store, settings)
        await hub.start()
        # PostgreSQL: audit entries are written unlinked and linked into the chain after commit.
        chain_stop = asyncio.Event()
        chainer = (
            asyncio.create_task(audit_services.CHAINER.run(chain_stop), name="audit-chainer")
            if is_postgres(engine)
            else None
        )
        pruner = asyncio.create_task(_prune_periodically(settings), name="prune")
        # Unanswered spot-checks and documents become overdue at their deadline by themselves.
        deadlines = asyncio.create_task(
            _every(15, "spot-check deadline check", lambda: supervision_services.mark_overdue(events)),
            name="spot-check-deadlines",
        )
        sweeper = asyncio.create_task(sweep_periodically(settings, store), name="sweep-uploads")
        backfill = asyncio.create_task(backfill_periodically(store, settings), name="watermarks")
        # Videos' and PDFs' renditions, after their upload (FIELDWATCH_RENDER_INTERVAL=0: none here).
        renderer = (
            asyncio.create_task(render_periodically(store, settings), name="renditions")
            if settings.render_interval_s > 0
            else None
        )
        signer = (
            asyncio.create_task(_sign_tree_heads(integrity, settings), name="sign-tree-heads")
            if settings.audit_sign_interval_s > 0
            else None
        )
        documents = asyncio.create_task(
            _every(
                settings.document_check_interval_s,
                "document deadline check",
                lambda: documents_services.mark_overdue(events),
            ),
            name="document-deadlines",
        )
        statutory = asyncio.create_task(
            _every(settings.clock_check_interval_s, "statutory clock check", lambda: check_clocks(events)),
            name="statutory-clocks",
        )
        # Transfers (移送) left unanswered past transfer_answer_days raise an alert.
        transfers = asyncio.create_task(
            _every(
                settings.document_check_interval_s,
                "transfer answer check",
                lambda: channels_services.alert_unanswered(settings, events),
            ),
            name="transfer-answers",
        )
        # Outbound webhooks: one client for every delivery; it never follows redirects.
        webhook_http = httpx.AsyncClient(follow_redirects=False, trust_env=False)
        webhooks = asyncio.create_task(
            _every(
                settings.webhook_interval_s,
                "webhook deliveries",
                lambda: webhook_services.run_once(webhook_http),
            ),
            name="webhooks",
        )
        # Per-object retentions follow each original's rule once its date is known (docs/evidence.md).
        retention = asyncio.create_task(
            _every(
                settings.retention_interval_s,
                "evidence retention",
                lambda: retention_services.reconcile(store, settings),
            ),
            name="retention",
        )
        # Monthly reports: drafted on the 1st, a reminder before the 15th, an alert once late.
        reports = asyncio.create_task(
            _every(
                settings.document_check_interval_s,
                "monthly report schedule",
                lambda: report_services.run_schedule(events),
            ),
            name="monthly-reports",
        )
        try:
            yield
        finally:
            reports.cancel()
            retention.cancel()
            statutory.cancel()
            webhooks.cancel()
            await webhook_http.aclose()
            transfers.cancel()
            pruner.cancel()
            deadlines.cancel()
            sweeper.cancel()
            backfill.cancel()
            if renderer is not None:
                renderer.cancel()
            if signer is not None:
                signer.cancel()
            documents.cancel()
            await hub.stop()
            if chainer is not None:  # what this process recorded is linked before it stops
                chain_stop.set()
                audit_services.CHAINER.nudge()
                await chainer
            if is_postgres(engine):
                await engine.close_connection_pool()

    api = Router(
        path="/api/v1",
        route_handlers=[
            Router(
                path="/",
                route_handlers=[AuthController],
                middleware=[auth_rate_limit(settings.login_rate_per_minute).middleware],
            ),
            Router(
                path="/",
                route_handlers=[PublicCertificateApi],
                middleware=[public_check_rate_limit(settings.public_check_rate_per_minute).middleware],
            ),
            MeController,
            UserController,
            CertificateController,
            UnitController,
            ItemController,
            ImportController,
            AuditController,
            AuditKeyController,
            ActionController,
            CaseController,
            ClockController,
            AlertController,
            PositionController,
            SosController,
            SummaryController,
            TodayController,
            EvidenceUploadController,
            EvidenceController,
            UploadController,
            InvitationController,
            SpotCheckController,
            RosterController,
            NominationController,
            Router(
                path="/",
                route_handlers=[NominationFormController],
                middleware=[nomination_rate_limit(settings.nomination_rate_per_minute).middleware],
            ),
            CalendarController,
            DocumentController,
            CorrectiveController,
            LeadingGroupController,
            MeetingController,
            ChannelController,
            TrainingController,
            AssessmentController,
            CapabilityController,
            PublicationController,
            Router(
                path="/",
                route_handlers=[PublicController, PublicUnitController],
                middleware=[public_rate_limit(settings.public_rate_per_minute).middleware],
            ),
            WebhookController,
            RetentionController,
            ShareController,
            ReportController,
            CaseReviewController,
            SharedController,
            Router(
                path="/",
                route_handlers=[ShareOpenController],
                middleware=[public_check_rate_limit(settings.public_check_rate_per_minute).middleware],
            ),
            live_socket,
        ],
        middleware=[DefineMiddleware(JWTAuthMiddleware, tokens=tokens, cache_s=settings.auth_cache_s)],
        security=[{"BearerAuth": []}],
    )
    public = Router(
        path="/",
        route_handlers=[public_page, public_record],
        middleware=[public_rate_limit(settings.public_rate_per_minute).middleware],
    )
    # The page a card's QR opens (short path: a smaller QR), rate-limited with the JSON check.
    certificate_page = Router(
        path="/",
        route_handlers=[PublicCertificatePage],
        middleware=[public_check_rate_limit(settings.public_check_rate_per_minute).middleware],
    )
    handlers: list[Any] = [healthz, readyz, api, public, certificate_page]
    if (settings.pwa_dir / "vendor").is_dir():
        # Vendored libraries carry their version in the path: a new one is a new URL.
        handlers.append(
            create_static_files_router(
                path="/vendor",
                directories=[settings.pwa_dir / "vendor"],
                name="pwa-vendor",
                cache_control=CacheControlHeader(public=True, max_age=31_536_000, immutable=True),
            )
        )
    if settings.pwa_dir.is_dir():
        handlers.append(
            create_static_files_router(
                path="/",
                directories=[settings.pwa_dir],
                html_mode=True,
                name="pwa",
                # Revalidate every shell file (sw.js above all) so a release reaches phones; the
                # service worker, not the HTTP cache, keeps the app usable offline.
                cache_control=CacheControlHeader(no_cache=True),
            )
        )

    app = Litestar(
        route_handlers=handlers,
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        request_class=AppRequest,
        before_request=refuse_nul_in_url,
        before_send=[add_security_headers],
        # Text (the app's JS and CSS, JSON answers) goes brotli or gzip; evidence bytes are already
        # compressed media and are served with byte ranges, so they go as they are.
        compression_config=CompressionConfig(
            backend="brotli",
            brotli_gzip_fallback=True,
            exclude=[
                r"^/api/v1/evidence/[^/]+/(content|thumbnail|watermarked)",
                r"^/api/v1/shared/evidence/",
                r"^/api/v1/uploads",
            ],
        ),
        plugins=[channels],
        lifespan=[lifespan],
        dependencies={
            "settings": _value(settings),
            "store": _value(store),
            "tokens": _value(tokens),
            "integrity": _value(integrity),
            "events": _value(events),
            "hub": _value(hub),
            "channels": _value(channels),
            "user": Provide(_current_user, use_cache=False),
        },
        openapi_config=OpenAPIConfig(
            title="fieldwatch API",
            version="1.0.0",
            description="行政执法协调监督 — administrative law-enforcement coordination and supervision.",
            path="/schema",
            components=Components(
                security_schemes={
                    "BearerAuth": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
                }
            ),
        ),
        debug=settings.debug,
    )
    allow_every_method(app)
    return app
