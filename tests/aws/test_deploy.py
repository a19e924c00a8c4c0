"""The CloudFormation template (cfn-lint, moto's CloudFormation), deploy/destroy, the Lambda zip, the worker CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import boto3
import orjson
import pytest
from click.testing import CliRunner

from loglake import Lake
from loglake.aws.deploy import TEMPLATE
from loglake.cli import main


def test_template_passes_cfn_lint() -> None:
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    done = subprocess.run([str(cfn_lint), str(TEMPLATE)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_template_has_what_the_tutorial_builds_by_hand() -> None:
    from cfnlint.decode import decode_str

    doc, problems = decode_str(TEMPLATE.read_text())
    assert not problems
    types = {r["Type"] for r in doc["Resources"].values()}
    assert {
        "AWS::S3::Bucket", "AWS::SQS::Queue", "AWS::SQS::QueuePolicy", "AWS::Lambda::Function",
        "AWS::Lambda::EventSourceMapping", "AWS::IAM::Role", "AWS::Glue::Database", "AWS::Athena::WorkGroup",
        "AWS::CloudWatch::Alarm", "AWS::Logs::LogGroup",
    } <= types  # fmt: skip
    assert doc["Resources"]["CollectorSchedule"]["Condition"] == "HasCollectGroups"
    assert doc["Resources"]["SubscriptionPermission"]["Properties"]["Principal"] == "logs.amazonaws.com"
    fn = doc["Resources"]["ProcessorFunction"]["Properties"]
    assert fn["Runtime"] == "python3.12" and fn["Architectures"] == ["arm64"]
    mapping = doc["Resources"]["ProcessorEventSource"]["Properties"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    raw = doc["Resources"]["RawBucket"]["Properties"]
    assert raw["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True and "BucketEncryption" in raw
    rules = raw["NotificationConfiguration"]["QueueConfigurations"][0]["Filter"]["S3Key"]["Rules"]
    assert (
        rules == [{"Name": "suffix", "Value": {"Ref": "RawSuffix"}}]
        and doc["Parameters"]["RawSuffix"]["Default"] == ".log"
    )
    routes = [
        {r["Name"]: r["Value"] for r in c["Filter"]["S3Key"]["Rules"]}
        for c in raw["NotificationConfiguration"]["QueueConfigurations"]
    ]
    assert {"prefix": "AWSLogs/", "suffix": ".json.gz"} in routes  # CloudTrail's deliveries
    statements = doc["Resources"]["ProcessorRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    read_raw = next(s for s in statements if s["Sid"] == "ReadRaw")
    assert read_raw["Action"] == "s3:GetObject"
    assert all(s.get("Resource") != "*" for s in statements)  # nothing on every resource


def fake_zip(tmp_path: Path) -> Path:
    path = tmp_path / "code.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("index.py", "def handler(event, context):\n    return {}\n")
    return path


@pytest.mark.slow
def test_deploy_and_destroy_in_moto_cloudformation(aws, tmp_path) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="someone-elses-bucket")
    s3.put_object(Bucket="someone-elses-bucket", Key="keep.txt", Body=b"mine")
    runner = CliRunner()
    result = runner.invoke(
        main, ["deploy", "--stack-name", "llk", "--zip", str(fake_zip(tmp_path)), "--json"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    outputs = orjson.loads(result.stdout)
    raw, processed = outputs["RawBucketName"], outputs["ProcessedBucketName"]
    assert raw.startswith("llk-raw-") and processed.startswith("llk-processed-")
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert {raw, processed} <= buckets
    # the code went into the stack's own bucket and the function points at it
    assert s3.head_object(Bucket=processed, Key="_deploy/loglake-lambda.zip")["ContentLength"] > 0
    fn = boto3.client("lambda").get_function(FunctionName=outputs["FunctionName"])
    assert fn["Configuration"]["Runtime"] == "python3.12"
    queue_attrs = boto3.client("sqs").get_queue_attributes(
        QueueUrl=outputs["QueueUrl"], AttributeNames=["RedrivePolicy"]
    )
    assert orjson.loads(queue_attrs["Attributes"]["RedrivePolicy"])["maxReceiveCount"] in (5, "5")
    toml = s3.get_object(Bucket=processed, Key="loglake.toml")["Body"].read().decode()
    assert f'athena_workgroup = "{outputs["AthenaWorkGroup"]}"' in toml
    # a second deploy updates in place
    again = runner.invoke(
        main, ["deploy", "--stack-name", "llk", "--zip", str(fake_zip(tmp_path)), "--json"], catch_exceptions=False
    )
    assert again.exit_code == 0, again.output

    s3.put_object(Bucket=raw, Key="app.log", Body=b"{}")
    s3.put_object(Bucket=processed, Key="processed/dt=2025-07-21/x.parquet", Body=b"x")
    gone = runner.invoke(main, ["destroy", "--stack-name", "llk", "--yes", "--json"], catch_exceptions=False)
    assert gone.exit_code == 0, gone.output
    emptied = orjson.loads(gone.stdout)["emptied"]
    assert set(emptied) == {raw, processed}
    remaining = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert raw not in remaining and processed not in remaining
    assert s3.get_object(Bucket="someone-elses-bucket", Key="keep.txt")["Body"].read() == b"mine"


def test_destroy_of_a_missing_stack_is_a_clear_error(aws) -> None:
    result = CliRunner().invoke(main, ["destroy", "--stack-name", "nope", "--yes"])
    assert result.exit_code == 2 and "does not exist" in result.stderr


@pytest.mark.slow
def test_lambda_zip_builds_and_its_handler_commits_from_a_clean_interpreter(aws, tmp_path) -> None:
    """Built for this machine's platform so it can run here; `loglake package` defaults to arm64. The zip
    alone (no site-packages) processes a real SQS-wrapped S3 event into Iceberg tables on moto's server."""
    import platform

    from loglake.aws.deploy import build_zip

    machine = {"x86_64": "manylinux2014_x86_64", "aarch64": "manylinux2014_aarch64"}[platform.machine()]
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    path = build_zip(tmp_path / "lambda.zip", python=py, platform=machine)
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        assert {"index.py", "loglake/aws/handler.py"} <= names
        assert not any(n.startswith(("duckdb/", "starlette/", "uvicorn/", "prompt_toolkit/")) for n in names)
        assert not any(n.startswith("sqlalchemy/") for n in names)  # a Lambda commits through Glue
        zf.extractall(tmp_path / "unzipped")
    # -S -I: no site-packages at all — only the standard library and the zip's contents
    # What a commit loads too: pyiceberg's Glue catalog and its Arrow I/O, and LogLake's FileIO over boto3.
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import index; "
        "import pyiceberg.catalog.glue, pyiceberg.io.pyarrow, loglake.storage.s3_fileio, loglake.tables.commit; "
        "print(index.handler.__module__)"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-I", "-c", code, str(tmp_path / "unzipped")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "loglake.aws.handler"

    s3 = boto3.client("s3")
    for bucket in ("zip-raw", "zip-lake"):
        s3.create_bucket(Bucket=bucket)
    body = b'{"level": "INFO", "message": "from the zip"}\nnot json\n'
    s3.put_object(Bucket="zip-raw", Key="app.log", Body=body)
    s3_object = {"bucket": {"name": "zip-raw"}, "object": {"key": "app.log", "size": len(body)}}
    notice = {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": s3_object}]}
    event = {"Records": [{"messageId": "m-1", "eventSource": "aws:sqs", "body": orjson.dumps(notice).decode()}]}
    run = (
        "import sys, json; sys.path.insert(0, sys.argv[1]); import index; "
        "print(json.dumps(index.handler(json.loads(sys.argv[2]), None)))"
    )
    env = {**os.environ, "PROCESSED_BUCKET": "zip-lake"}
    env.pop("LOGLAKE_LAKE", None)
    done = subprocess.run(
        [sys.executable, "-S", "-I", "-c", run, str(tmp_path / "unzipped"), orjson.dumps(event).decode()],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    answer = orjson.loads(done.stdout.strip().splitlines()[-1])
    assert answer["batchItemFailures"] == [] and answer["processed"] == 1
    lake = Lake.open("s3://zip-lake")
    assert lake.query("SELECT message FROM processed_logs").to_pylist() == [{"message": "from the zip"}]
    assert lake.query("SELECT raw_line FROM errors_logs").to_pylist() == [{"raw_line": "not json"}]


@pytest.mark.slow
def test_worker_cli_drains_the_queue(aws, tmp_path, monkeypatch) -> None:
    from tests.aws.test_e2e import LAKE, RAW, setup_pipeline
    from tests.conftest import jl, rec

    queue, _ = setup_pipeline()
    boto3.client("s3").put_object(Bucket=RAW, Key="a b.log", Body=jl(rec(), rec()))
    result = CliRunner().invoke(
        main,
        ["--lake", f"s3://{LAKE}", "worker", "--queue-url", queue, "--until-empty", "--wait", "1", "--json"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert doc["succeeded"] >= 1 and doc["failed"] == 0
    assert [o["processed"] for o in doc["objects"]] == [2]


def test_athena_engine_drives_the_api(aws) -> None:
    """moto's Athena runs no SQL: this checks the calls, polling and result handling, not results."""
    from loglake.query.athena import AthenaEngine

    boto3.client("s3").create_bucket(Bucket="results")
    engine = AthenaEngine("log_analytics_db", "primary", "s3://results/query-results/", poll=0.01)
    result = engine.run('SELECT level, COUNT(*) AS log_count FROM "log_analytics_db"."processed_logs" GROUP BY level')
    assert result.query_id and result.rows == []
    from loglake.errors import QueryError

    with pytest.raises(QueryError, match="read-only"):
        engine.run("DROP TABLE processed_logs")


def test_a_commit_in_flight_elsewhere_is_left_alone_and_a_stale_one_finished(aws) -> None:
    """A duplicate event handled by another Lambda: its journal is not ours to finish until it is stale."""
    import time as _time

    from loglake.storage.s3 import S3Storage
    from loglake.tables.journal import STALE_SECONDS, in_flight

    boto3.client("s3").create_bucket(Bucket="lake")
    storage = S3Storage("s3://lake")
    fresh = f"{int(_time.time() * 1000):x}-aaaaaaaa-1"
    old = f"{int((_time.time() - STALE_SECONDS - 60) * 1000):x}-bbbbbbbb-1"
    assert in_flight(storage, fresh) and not in_flight(storage, old)
