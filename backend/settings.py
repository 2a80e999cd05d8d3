"""Configuration, read only from FIELDWATCH_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"FIELDWATCH_{name}")
    return value if value not in (None, "") else default


def _int(name: str, default: int) -> int:
    raw = _env(name)
    return int(raw) if raw is not None else default


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    media_url: str
    redis_url: str | None = None
    redis_prefix: str = "fieldwatch"
    jwt_issuer: str = "fieldwatch"
    jwt_audience: str = "fieldwatch-api"
    access_token_ttl_s: int = 900
    refresh_token_ttl_s: int = 30 * 24 * 3600
    login_max_failures: int = 5
    login_lockout_s: int = 900
    login_rate_per_minute: int = 30
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
    clock_skew_minutes: int = 10
    cjk_font: str | None = None
    # Map tiles for the command center and supervisors: "osm", "tianditu" (needs tianditu_key),
    # "offline" (no tiles: positions on a plain grid), or an https:// URL template.
    map_tiles: str = "osm"
    tianditu_key: str = ""
    debug: bool = False
    pwa_dir: Path = field(default_factory=lambda: default_pwa_dir())

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

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(_env("DATA_DIR", "./var") or "./var").resolve()
        return cls(
            data_dir=data_dir,
            database_url=_env("DATABASE_URL") or f"sqlite:///{data_dir / 'fieldwatch.sqlite3'}",
            media_url=_env("MEDIA_URL") or f"file://{data_dir / 'media'}",
            redis_url=_env("REDIS_URL"),
            redis_prefix=_env("REDIS_PREFIX", "fieldwatch") or "fieldwatch",
            jwt_issuer=_env("JWT_ISSUER", "fieldwatch") or "fieldwatch",
            jwt_audience=_env("JWT_AUDIENCE", "fieldwatch-api") or "fieldwatch-api",
            access_token_ttl_s=_int("ACCESS_TOKEN_TTL", 900),
            refresh_token_ttl_s=_int("REFRESH_TOKEN_TTL", 30 * 24 * 3600),
            login_max_failures=_int("LOGIN_MAX_FAILURES", 5),
            login_lockout_s=_int("LOGIN_LOCKOUT", 900),
            login_rate_per_minute=_int("LOGIN_RATE_PER_MINUTE", 30),
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
            clock_skew_minutes=_int("CLOCK_SKEW_MINUTES", 10),
            cjk_font=_env("CJK_FONT"),
            map_tiles=_env("MAP_TILES", "osm") or "osm",
            tianditu_key=_env("TIANDITU_KEY", "") or "",
            debug=(_env("DEBUG", "0") == "1"),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()


def default_pwa_dir() -> Path:
    configured = _env("PWA_DIR")
    if configured:
        return Path(configured)
    beside_source = Path(__file__).resolve().parent.parent / "pwa"
    return beside_source if beside_source.is_dir() else Path.cwd() / "pwa"
