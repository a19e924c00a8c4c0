"""One Lambda invocation in this process: an SQS message wrapping an S3 ObjectCreated notification.

Usage: lambda_handler.py BUCKET KEY SIZE. The endpoint, credentials and `LOGLAKE_LAKE` come from the
environment the bench sets; peak RSS is measured from outside, as the Lambda's memory limit counts it.
"""

from __future__ import annotations

import json
import sys
from urllib.parse import quote_plus

from loglake.aws.handler import handler


def sqs_event(bucket: str, key: str, size: int) -> dict:
    """The shapes AWS documents: an S3 notification record, as the body of an SQS message."""
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": "2025-07-21T10:00:00.000Z",
        "eventName": "ObjectCreated:Put",
        "s3": {
            "s3SchemaVersion": "1.0",
            "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
            "object": {"key": quote_plus(key), "size": size, "sequencer": "0A1B2C3D4E5F678901"},
        },
    }
    return {
        "Records": [
            {
                "messageId": "bench-1",
                "receiptHandle": "bench",
                "body": json.dumps({"Records": [record]}),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:loglake-events",
                "awsRegion": "us-east-1",
            }
        ]
    }


if __name__ == "__main__":
    bucket, key, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
    result = handler(sqs_event(bucket, key, size))
    if result.get("batchItemFailures"):
        raise SystemExit(f"the invocation reported failures: {result}")
