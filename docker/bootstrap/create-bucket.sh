#!/usr/bin/env bash
# Creates the S3 bucket behind Trino's hive catalog in moto (compose service `s3-bucket`). moto keeps
# its state in memory, so every start of moto needs it again. With real AWS the bucket is yours and
# this step only touches the (unused) moto.
set -euo pipefail
url="${MOTO_URL:-http://moto:5000}/${S3_BUCKET:?S3_BUCKET is not set}"
status=$(curl -sS -o /tmp/create-bucket.out -w '%{http_code}' -X PUT "$url")
case "$status" in
  200|409) echo "bucket ${S3_BUCKET}: present" ;;
  *) echo "creating bucket ${S3_BUCKET} in moto failed (HTTP $status): $(cat /tmp/create-bucket.out)" >&2; exit 1 ;;
esac
