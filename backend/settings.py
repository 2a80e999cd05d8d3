"""Configuration, read only from FIELDWATCH_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"FIELDWATCH_{name}")
    return value if value not in (None, "") else default


DEFAULT_DOCUMENT_CODES = {
    "inspection_notice": "南川司监查",
    "opinion": "南川司监意",
    "proposal": "南川司监建",
    "correction_order": "南川司监纠",
    "check_record": "南川司监记",
}


def _codes(raw: str | None) -> tuple[tuple[str, str], ...]:
    """``type=代字,type=代字``; unnamed types keep their default."""
    codes = dict(DEFAULT_DOCUMENT_CODES)
    for part in (raw or "").split(","):
        key, sep, value = part.partition("=")
        if sep and key.strip() in codes and value.strip():
            codes[key.strip()] = value.strip()
    return tuple(codes.items())


def _int(name: str, default: int) -> int:
    raw = _env(name)
    return int(raw) if raw is not None else default


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    media_url: str
    # How long `serve`/`migrate` wait for an unreachable database at start before giving up.
    database_wait_s: int = 60
    redis_url: str | None = None
    redis_prefix: str = "fieldwatch"
    jwt_issuer: str = "fieldwatch"
    jwt_audience: str = "fieldwatch-api"
    access_token_ttl_s: int = 900
    # How long a process may answer a checked token from memory (docs/operations.md); 0 checks every time.
    auth_cache_s: int = 60
    refresh_token_ttl_s: int = 30 * 24 * 3600
    login_max_failures: int = 5
    login_lockout_s: int = 900
    login_rate_per_minute: int = 30
    public_check_rate_per_minute: int = 20
    # Public applications to be an invited supervisor (docs/supervision.md): a person applies once.
    nomination_rate_per_minute: int = 5
    live_heartbeat_s: float = 25.0
    live_max_queue: int = 256
    position_min_interval_s: int = 5
    position_retention_days: int = 30
    event_retention_days: int = 7
    max_photo_mb: int = 40
    max_video_mb: int = 4096
    max_audio_mb: int = 200
    max_document_mb: int = 50
    upload_expiry_hours: int = 72
    temp_max_age_s: int = 3600
    clock_skew_minutes: int = 10
    cjk_font: str | None = None
    integrity_key_file: Path | None = None  # default: data_dir / "integrity-key.pem"
    audit_sign_interval_s: int = 300
    audit_sign_every: int = 1000
    # Supervision documents: the issuing body's name (发文机关标志), the 机关代字 per document type,
    # the default deadline and the window for a unit's 复查申请 (see docs/documents.md).
    document_issuer: str = "重庆市南川区司法局"
    document_codes: tuple[tuple[str, str], ...] = tuple(DEFAULT_DOCUMENT_CODES.items())
    document_default_days: int = 15
    document_review_request_days: int = 15
    document_check_interval_s: float = 60.0
    # Statutory clocks on cases (docs/publication.md): warn this many working days before a due
    # date; how often the clock and recording checks run.
    clock_warn_days: int = 2
    clock_check_interval_s: float = 60.0
    # 全过程记录: action kinds and item kinds whose acts need an audio or video file, and the hours
    # an action may stay without one before it is alerted.
    recording_kinds: tuple[str, ...] = ("coercive", "hearing", "service_left")
    recording_item_kinds: tuple[str, ...] = ("coercion",)
    recording_grace_h: float = 24.0
    # 执法公示: working days from the decision to its publication, per item kind ("*" the rest),
    # working days to withdraw one, and public requests per client address per minute.
    publication_days: tuple[tuple[str, int], ...] = (("penalty", 7), ("*", 20))
    withdrawal_days: int = 3
    public_rate_per_minute: int = 120
    webhook_interval_s: float = 2.0  # how often due webhook deliveries are looked for and sent
    # Evidence retention (docs/evidence.md): the object lock the S3 evidence bucket must have
    # (mode COMPLIANCE | GOVERNANCE, or "none" to not require one; default period in days, at
    # least), and how often per-object retentions are brought up to each original's rule.
    evidence_lock_mode: str = "COMPLIANCE"
    evidence_lock_days: int = 1
    retention_interval_s: float = 3600.0
    # Share links (docs/evidence.md): the object store's address as outside recipients reach it, for
    # presigned downloads (empty: the API streams shared files itself); days a link lives by default.
    s3_public_url: str = ""
    share_default_days: int = 7
    # Server-side renditions of videos and PDFs (docs/evidence.md): how often the job looks for
    # pending ones besides the nudge after each upload (0: no background job, render_pending only),
    # how long one file may take in the decoder, and the largest original it renders.
    render_interval_s: float = 60.0
    render_timeout_s: float = 120.0
    render_max_mb: int = 4096
    # Channels (docs/channels.md): calendar days a procuratorate / public-security organ has to
    # answer a transfer (移送) before an alert is raised, and a liaison's reports per hour.
    transfer_answer_days: int = 10
    liaison_reports_per_hour: int = 10
    # Map tiles for the command center and supervisors: "osm", "tianditu" (needs tianditu_key),
    # "offline" (no tiles: positions on a plain grid), or an https:// URL template.
    map_tiles: str = "osm"
    tianditu_key: str = ""
    debug: bool = False
    pwa_dir: Path = field(default_factory=lambda: default_pwa_dir())

    def publication_days_for(self, item_kind: str) -> int:
        days = dict(self.publication_days)
        return days.get(item_kind, days.get("*", 20))

    def document_code(self, document_type: str) -> str:
        """The 机关代字 in a document number of this type, e.g. 南川司监意 in 南川司监意〔2026〕7号."""
        return dict(self.document_codes).get(document_type) or DEFAULT_DOCUMENT_CODES[document_type]

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    def max_bytes(self, kind: str) -> int:
        mb = {
            "photo": self.max_photo_mb,
            "video": self.max_video_mb,
            "audio": self.max_audio_mb,
            "document": self.max_document_mb,
        }[kind]
        return mb * 1024 * 1024

    def tile_source(self) -> dict[str, object] | None:
        """What the map draws under the officers (Leaflet tile layer options), or None for none."""
        if self.map_tiles == "tianditu" and self.tianditu_key:
            base = "https://t{s}.tianditu.gov.cn/DataServer?x={x}&y={y}&l={z}&tk=" + self.tianditu_key
            return {
                "url": base + "&T=vec_w",
                "labels": base + "&T=cva_w",
                "subdomains": "01234567",
                "attribution": "天地图",
                "maxZoom": 18,
            }
        if self.map_tiles == "osm":
            return {
                "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                "labels": None,
                "subdomains": "abc",
                "attribution": "© OpenStreetMap",
                "maxZoom": 19,
            }
        if self.map_tiles.startswith("https://"):
            template = self.map_tiles
            return {"url": template, "labels": None, "subdomains": "abc", "attribution": "", "maxZoom": 18}
        return None  # "offline", or 天地图 without its key

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def integrity_key_path(self) -> Path:
        """Not in keys_dir: every PEM there is a JWT key."""
        return self.integrity_key_file or self.data_dir / "integrity-key.pem"

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(_env("DATA_DIR", "./var") or "./var").resolve()
        return cls(
            data_dir=data_dir,
            database_url=_env("DATABASE_URL") or f"sqlite:///{data_dir / 'fieldwatch.sqlite3'}",
            media_url=_env("MEDIA_URL") or f"file://{data_dir / 'media'}",
            database_wait_s=_int("DATABASE_WAIT_SECONDS", 60),
            redis_url=_env("REDIS_URL"),
            redis_prefix=_env("REDIS_PREFIX", "fieldwatch") or "fieldwatch",
            jwt_issuer=_env("JWT_ISSUER", "fieldwatch") or "fieldwatch",
            jwt_audience=_env("JWT_AUDIENCE", "fieldwatch-api") or "fieldwatch-api",
            access_token_ttl_s=_int("ACCESS_TOKEN_TTL", 900),
            auth_cache_s=_int("AUTH_CACHE_SECONDS", 60),
            refresh_token_ttl_s=_int("REFRESH_TOKEN_TTL", 30 * 24 * 3600),
            login_max_failures=_int("LOGIN_MAX_FAILURES", 5),
            login_lockout_s=_int("LOGIN_LOCKOUT", 900),
            login_rate_per_minute=_int("LOGIN_RATE_PER_MINUTE", 30),
            public_check_rate_per_minute=_int("PUBLIC_CHECK_RATE_PER_MINUTE", 20),
            nomination_rate_per_minute=_int("NOMINATION_RATE_PER_MINUTE", 5),
            live_heartbeat_s=float(_int("LIVE_HEARTBEAT", 25)),
            live_max_queue=_int("LIVE_MAX_QUEUE", 256),
            position_min_interval_s=_int("POSITION_MIN_INTERVAL", 5),
            position_retention_days=_int("POSITION_RETENTION_DAYS", 30),
            event_retention_days=_int("EVENT_RETENTION_DAYS", 7),
            max_photo_mb=_int("MAX_PHOTO_MB", 40),
            max_video_mb=_int("MAX_VIDEO_MB", 4096),
            max_audio_mb=_int("MAX_AUDIO_MB", 200),
            max_document_mb=_int("MAX_DOCUMENT_MB", 50),
            upload_expiry_hours=_int("UPLOAD_EXPIRY_HOURS", 72),
            temp_max_age_s=_int("TEMP_MAX_AGE", 3600),
            clock_skew_minutes=_int("CLOCK_SKEW_MINUTES", 10),
            cjk_font=_env("CJK_FONT"),
            integrity_key_file=Path(key_file) if (key_file := _env("INTEGRITY_KEY_FILE")) else None,
            audit_sign_interval_s=_int("AUDIT_SIGN_INTERVAL", 300),
            audit_sign_every=_int("AUDIT_SIGN_EVERY", 1000),
            document_issuer=_env("DOCUMENT_ISSUER", "重庆市南川区司法局") or "重庆市南川区司法局",
            document_codes=_codes(_env("DOCUMENT_CODES")),
            document_default_days=_int("DOCUMENT_DEFAULT_DAYS", 15),
            document_review_request_days=_int("DOCUMENT_REVIEW_REQUEST_DAYS", 15),
            document_check_interval_s=float(_int("DOCUMENT_CHECK_INTERVAL", 60)),
            clock_warn_days=_int("CLOCK_WARN_DAYS", 2),
            clock_check_interval_s=float(_int("CLOCK_CHECK_INTERVAL", 60)),
            recording_kinds=_names(_env("RECORDING_KINDS"), ("coercive", "hearing", "service_left")),
            recording_item_kinds=_names(_env("RECORDING_ITEM_KINDS"), ("coercion",)),
            recording_grace_h=float(_int("RECORDING_GRACE_HOURS", 24)),
            publication_days=_days(_env("PUBLICATION_DAYS")),
            withdrawal_days=_int("WITHDRAWAL_DAYS", 3),
            public_rate_per_minute=_int("PUBLIC_RATE_PER_MINUTE", 120),
            webhook_interval_s=float(_int("WEBHOOK_INTERVAL", 2)),
            evidence_lock_mode=(_env("EVIDENCE_LOCK_MODE") or "COMPLIANCE").strip(),
            evidence_lock_days=_int("EVIDENCE_LOCK_DAYS", 1),
            retention_interval_s=float(_int("RETENTION_INTERVAL", 3600)),
            s3_public_url=_env("S3_PUBLIC_URL", "") or "",
            share_default_days=_int("SHARE_DEFAULT_DAYS", 7),
            render_interval_s=float(_int("RENDER_INTERVAL", 60)),
            render_timeout_s=float(_int("RENDER_TIMEOUT", 120)),
            render_max_mb=_int("RENDER_MAX_MB", 4096),
            transfer_answer_days=_int("TRANSFER_ANSWER_DAYS", 10),
            liaison_reports_per_hour=_int("LIAISON_REPORTS_PER_HOUR", 10),
            map_tiles=_env("MAP_TILES", "osm") or "osm",
            tianditu_key=_env("TIANDITU_KEY", "") or "",
            debug=(_env("DEBUG", "0") == "1"),
        )


def _names(value: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    """A comma-separated list; unset keeps the default, an empty value means none."""
    if value is None:
        return default
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _days(value: str | None) -> tuple[tuple[str, int], ...]:
    """``penalty=7,*=20``: working days per item kind; kinds not named keep their default."""
    days = {"penalty": 7, "*": 20}
    for part in (value or "").split(","):
        if "=" in part:
            kind, _, number = part.partition("=")
            if number.strip().isdigit():
                days[kind.strip()] = int(number)
    return tuple(days.items())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()


def default_pwa_dir() -> Path:
    configured = _env("PWA_DIR")
    if configured:
        return Path(configured)
    beside_source = Path(__file__).resolve().parent.parent / "pwa"
    return beside_source if beside_source.is_dir() else Path.cwd() / "pwa"
