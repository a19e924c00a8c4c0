"""Everything AWS-specific: event envelopes, the Lambda handler, SQS workers, Glue, Athena, deploy."""
