from __future__ import annotations

import anyio.to_thread
from minio import Minio
from minio.error import MinioException
from urllib3.exceptions import HTTPError

from media_store.base import MediaStoreUnavailable


class S3Store:
    """MinIO or any S3 server, through the minio SDK (blocking calls run in worker threads)."""

    def __init__(self, endpoint: str, access_key: str, secret_key: str, bucket: str, secure: bool) -> None:
        self.client = Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=secure)
        self.bucket = bucket
        self.description = f"s3://{endpoint}/{bucket}"

    async def ping(self) -> None:
        try:
            exists = await anyio.to_thread.run_sync(self.client.bucket_exists, self.bucket)
        except (MinioException, HTTPError, OSError) as exc:
            raise MediaStoreUnavailable(f"object store unreachable: {type(exc).__name__}") from None
        if not exists:
            raise MediaStoreUnavailable(f"bucket {self.bucket!r} does not exist")
