#!/usr/bin/env bash
# Creates the S3 bucket behind Trino's hive catalog (compose service `s3-bucket`), once: the object
# store keeps it on its volume, so later starts find it present. Requests are signed (SigV4) with
# the key from .env, as S3Proxy checks them.
set -euo pipefail
url="${S3_ENDPOINT_URL:?S3_ENDPOINT_URL is not set}/${S3_BUCKET:?S3_BUCKET is not set}"
sign=(--aws-sigv4 "aws:amz:${AWS_REGION:-us-east-1}:s3" --user "${AWS_ACCESS_KEY_ID:?}:${AWS_SECRET_ACCESS_KEY:?}")
if [ "$(curl -sS -o /dev/null -w '%{http_code}' -I "${sign[@]}" "$url")" = 200 ]; then
  echo "bucket ${S3_BUCKET}: present"; exit 0
fi
status=$(curl -sS -o /tmp/create-bucket.out -w '%{http_code}' -X PUT "${sign[@]}" "$url")
case "$status" in
  200) echo "bucket ${S3_BUCKET}: created" ;;
  *) echo "creating bucket ${S3_BUCKET} at ${S3_ENDPOINT_URL} failed (HTTP $status): $(cat /tmp/create-bucket.out)" >&2; exit 1 ;;
esac
