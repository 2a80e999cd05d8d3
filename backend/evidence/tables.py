from piccolo.columns import JSON, UUID, BigInt, DoublePrecision, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Evidence(Table, tablename="evidence"):
    """One original, stored byte for byte under its SHA-256. The same bytes attached twice to the
    same parent are one record (unique parent + sha256)."""

    id = UUID(primary_key=True)
    parent_type = Varchar(length=20)  # action | case | spot_check
    parent_id = UUID(index=True)
    unit_id = UUID(index=True)
    sha256 = Varchar(length=64, index=True)
    size = BigInt()
    content_type = Varchar(length=80)
    object_key = Varchar(length=100)
    filename = Varchar(length=200, null=True, default=None)
    captured_at = Timestamptz(null=True, default=None)  # as the device said (header or EXIF)
    exif_captured_at = Timestamptz(null=True, default=None)
    lat = DoublePrecision(null=True, default=None)
    lon = DoublePrecision(null=True, default=None)
    gps_accuracy_m = DoublePrecision(null=True, default=None)  # the phone's fix; None for EXIF GPS
    device_clock_offset_s = DoublePrecision(null=True, default=None)  # server minus phone clock
    device = Varchar(length=100, null=True, default=None)
    width = BigInt(null=True, default=None)
    height = BigInt(null=True, default=None)
    received_at = Timestamptz(default=TimestamptzNow())
    uploaded_by = UUID()
    flags = JSON(default=[])
    renditions = JSON(default={})
    upload = Varchar(length=20, default="direct")  # direct | resumable
    dedupe_key = Varchar(length=140, unique=True)  # parent_type:parent_id:sha256
    # MAC of the object's stat fingerprint when its bytes last hashed right (evidence/integrity.py)
    seal = Varchar(length=64, null=True, default=None)
    # What the server read from a video or PDF ({duration_s, codec, width, height, pages}), and where
    # its renditions stand: pending (the job will make them) | done | failed | none (nothing to make).
    media = JSON(null=True, default=None)
    rendition_state = Varchar(length=10, default="none")
    rendition_error = Text(null=True, default=None)  # why it failed, in plain words


class Upload(Table, tablename="uploads"):
    """A resumable (tus 1.0) upload in progress; the bytes so far live in a file under the data dir."""

    id = UUID(primary_key=True)
    user_id = UUID(index=True)
    parent_type = Varchar(length=20)
    parent_id = UUID()
    unit_id = UUID()
    content_type = Varchar(length=80)
    filename = Varchar(length=200, null=True, default=None)
    captured_at = Timestamptz(null=True, default=None)
    length = BigInt()
    offset = BigInt(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(index=True)
    evidence_id = UUID(null=True, default=None)
    metadata = Text(default="")
