from piccolo.columns import JSON, UUID, BigInt, Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class WebhookEndpoint(Table, tablename="webhook_endpoints"):
    """An outside system told of chosen live events (Standard Webhooks), seeing what its scope may."""

    id = UUID(primary_key=True)
    url = Varchar(length=2000)
    description = Varchar(length=200, default="")
    event_types = JSON(default=[])
    unit_ids = JSON(default=[])  # empty: the whole district, as the command center sees it
    # "whsec_" + base64 of the signing key: shown once when made, kept to sign each delivery.
    secret = Varchar(length=100, secret=True)
    active = Boolean(default=True)
    # The last live event looked at for this endpoint: events after it become its deliveries.
    cursor = BigInt(default=0)
    created_by = UUID()
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class WebhookDelivery(Table, tablename="webhook_deliveries"):
    """One message to one endpoint, with every attempt's outcome; its id is the `webhook-id`."""

    id = UUID(primary_key=True)
    endpoint = UUID(index=True)
    event_id = BigInt()
    event_type = Varchar(length=40)
    body = Text()
    # pending (to be sent at next_at) → delivered | failed (gave up after the retry window)
    status = Varchar(length=20, default="pending", index=True)
    attempts = Integer(default=0)
    next_at = Timestamptz(default=TimestamptzNow(), index=True)
    last_status = Integer(null=True, default=None)
    last_error = Text(null=True, default=None)
    log = JSON(default=[])  # [{at, status, error, ms}], newest last, at most LOG_MAX
    created_at = Timestamptz(default=TimestamptzNow())
    delivered_at = Timestamptz(null=True, default=None)
