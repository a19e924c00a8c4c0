"""AWS at the edge: collect from CloudWatch Logs, SQS workers, packaging, deploy and destroy."""

from __future__ import annotations

import sys

import click
from rich.progress import Progress, TextColumn, TimeElapsedColumn

from loglake.cli.lake_commands import run_objects, totals
from loglake.cli.output import (
    OK,
    SOME_FAILED,
    command,
    err,
    friendly,
    json_option,
    open_lake,
    out,
    print_json,
    say,
    visible,
)


@command()
@click.option("--log-group", "log_groups", multiple=True, required=True, help="A log group to collect (repeatable).")
@click.option("--stream-prefix", default=None, help="Only streams whose name starts with this.")
@click.option("--since", default="1d", show_default=True, help="Where a first run starts: 2h, 30m, 1d ago or ISO-8601.")
@click.option("--until", default=None, help="End of the window (default: now).")
@click.option("--lag", default="2m", show_default=True, help="How late events may arrive and still be picked up.")
@click.option("--max-rps", default=5.0, show_default=True, help="Requests per second towards CloudWatch Logs.")
@click.option("--process", "process_now", is_flag=True, help="Process the collected objects at once.")
@json_option
@click.pass_context
@friendly
def collect(
    ctx: click.Context,
    log_groups: tuple[str, ...],
    stream_prefix: str | None,
    since: str,
    until: str | None,
    lag: str,
    max_rps: float,
    process_now: bool,
    as_json: bool,
) -> None:
    """Pull CloudWatch Logs events into raw/cloudwatch/<group>/dt=.../ as gzip JSON Lines.

    Incremental and resumable: checkpoints per log group and stream live in the lake, so a re-run
    continues where the last one stopped, an interrupted run leaves no gaps or duplicates, and
    events arriving up to --lag late are still picked up.

    \b
    Example:
      loglake collect --log-group /aws/lambda/checkout --since 2h --process
      loglake --lake s3://my-processed-bucket collect --log-group /ecs/api --log-group /ecs/web --json
    """
    from loglake.aws.collector import CollectOptions, Collector, parse_when, raw_target
    from loglake.config import parse_duration
    from loglake.sources import ObjectRef
    from loglake.storage.s3 import s3_client

    lake = open_lake(ctx)
    raw, prefix = raw_target(lake.settings, lake.storage)
    options = CollectOptions(
        log_groups=list(log_groups),
        stream_prefix=stream_prefix,
        since_ms=parse_when(since) or 0,
        until_ms=parse_when(until),
        lag_seconds=parse_duration(lag, "--lag").total_seconds(),
        max_rps=max_rps,
    )
    columns = (TextColumn("{task.description}"), TextColumn("{task.completed} events"), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True, disable=as_json or not err.is_terminal) as progress:
        task = progress.add_task("collecting", total=None)

        def tick(stream: str, n: int) -> None:
            progress.update(task, description=f"collecting {visible(stream, False)}", advance=n)

        stats = Collector(s3_client("logs"), raw, prefix, lake.storage, options, tick).run()
    summaries = []
    if process_now and stats.objects:
        summaries = run_objects(lake, [ObjectRef(raw, k) for k in stats.objects], as_json)
    doc = {
        "events": stats.events,
        "objects": stats.objects,
        "streams": stats.streams,
        "duplicates_dropped": stats.duplicates_dropped,
        "throttled": stats.throttled,
        "skipped_groups": stats.skipped_groups,
        "processed": totals(summaries) if summaries else None,
    }
    if as_json:
        print_json(doc)
    else:
        out.print(f"collected {stats.events} events from {stats.streams} stream(s) into {len(stats.objects)} object(s)")
        for group in stats.skipped_groups:
            err.print(say(f"skipped {group}: LogLake's own log group (loop guard)"))


@command()
@click.option(
    "--queue-url", required=True, envvar="LOGLAKE_QUEUE_URL", help="The SQS queue receiving S3 notifications."
)
@click.option("--until-empty", is_flag=True, help="Exit once the queue has no visible messages (batch jobs, tests).")
@click.option("--wait", default=20, show_default=True, help="Long-poll seconds per receive.")
@click.option(
    "--visibility",
    default=300,
    show_default=True,
    help="Seconds a message stays hidden while processed (extended as needed).",
)
@click.option("--retry-delay", default=30, show_default=True, help="Seconds before a failed message is retried.")
@json_option(help="Print the run's counts as JSON at the end.")
@click.pass_context
@friendly
def worker(
    ctx: click.Context, queue_url: str, until_empty: bool, wait: int, visibility: int, retry_delay: int, as_json: bool
) -> None:
    """Process S3 notifications from an SQS queue; run as many workers as you like, anywhere.

    Each message is deleted once its object is committed; failures return to the queue and, after
    the queue's maxReceiveCount, go to its dead-letter queue. Exit code 1 when some failed.

    \b
    Example:
      loglake --lake s3://my-processed-bucket worker --queue-url https://sqs.us-east-1.amazonaws.com/123456789012/loglake-events
      loglake worker --queue-url "$QUEUE" --until-empty --json
    """
    from loglake.aws import runtime as rt_mod
    from loglake.aws.runtime import Runtime
    from loglake.aws.worker import run_worker

    settings = open_lake(ctx).settings
    rt_mod.LOG_STREAM = sys.stderr  # stdout stays machine-readable
    try:
        stats = run_worker(
            queue_url,
            Runtime.create(settings),
            until_empty=until_empty,
            wait_seconds=wait,
            visibility=visibility,
            retry_delay=retry_delay,
        )
    finally:
        rt_mod.LOG_STREAM = None
    counts = {k: getattr(stats, k) for k in ("received", "succeeded", "failed", "skipped")}
    if as_json:
        print_json({**counts, "objects": stats.objects})
    else:
        out.print(", ".join(f"{k} {v}" for k, v in counts.items()))
    ctx.exit(SOME_FAILED if stats.failed else OK)


@command()
@click.option("--output", default="dist/loglake-lambda.zip", show_default=True, help="Where to write the zip.")
@click.option("--arch", type=click.Choice(["arm64", "x86_64"]), default="arm64", show_default=True)
@click.option("--python", "python_version", default="3.12", show_default=True, help="Lambda runtime's Python version.")
@click.pass_context
@friendly
def package(ctx: click.Context, output: str, arch: str, python_version: str) -> None:
    """Build the Lambda deployment zip from manylinux wheels (arm64 by default).

    \b
    Example:
      loglake package --output dist/loglake-lambda.zip
    """
    from loglake.aws.deploy import build_zip

    with err.status(f"installing wheels for {arch} / Python {python_version}"):
        path = build_zip(output, arch=arch, python=python_version)
    out.print(say(f"built {path} ({path.stat().st_size / 1e6:.1f} MB)"))


@command()
@click.option("--stack-name", default="loglake", show_default=True)
@click.option(
    "--zip",
    "zip_path",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="A zip from `loglake package` (built now if omitted).",
)
@click.option("--memory", default=512, show_default=True, help="Lambda memory in MB.")
@click.option("--timeout", default=300, show_default=True, help="Lambda timeout in seconds.")
@json_option(help="Print the stack's outputs as JSON.")
@click.pass_context
@friendly
def deploy(ctx: click.Context, stack_name: str, zip_path: str | None, memory: int, timeout: int, as_json: bool) -> None:
    """Create (or update) the CloudFormation stack and upload the processor's code.

    Builds the raw and processed buckets, the S3 → SQS notification with its DLQ, the Lambda with
    partial batch responses, least-privilege IAM, the Glue database, an Athena workgroup and alarms.

    \b
    Example:
      loglake deploy --stack-name loglake
      aws s3 cp app.log s3://$(loglake deploy --json | jq -r .RawBucketName)/
    """
    from pathlib import Path

    from loglake.aws.deploy import build_zip
    from loglake.aws.deploy import deploy as run_deploy

    zip_file = Path(zip_path) if zip_path else None
    if zip_file is None:
        with err.status("building the Lambda zip"):
            zip_file = build_zip("dist/loglake-lambda.zip")
    params = {
        "LambdaMemory": str(memory),
        "LambdaTimeout": str(timeout),
        "QueueVisibilityTimeout": str(max(6 * timeout, 30)),
    }
    outputs = run_deploy(stack_name, zip_file, params, progress=lambda m: err.print(say(m)))
    if as_json:
        print_json(outputs)
    else:
        for key, value in outputs.items():
            out.print(say(f"{key}: {value}"))


@command()
@click.option("--stack-name", default="loglake", show_default=True)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
@click.pass_context
@friendly
def destroy(ctx: click.Context, stack_name: str, yes: bool, as_json: bool) -> None:
    """Empty the stack's buckets and delete the stack: back to nothing.

    Only buckets the stack created are emptied; no other bucket is touched.

    \b
    Example:
      loglake destroy --stack-name loglake --yes
    """
    from loglake.aws.deploy import destroy as run_destroy

    if not yes:
        click.confirm(f"Delete stack {stack_name} and everything in its buckets?", abort=True)
    emptied = run_destroy(stack_name, progress=lambda m: err.print(say(m)))
    if as_json:
        print_json({"stack": stack_name, "emptied": emptied})
    else:
        buckets = ", ".join(f"{b} ({n} objects)" for b, n in emptied.items()) or "no buckets"
        out.print(say(f"deleted stack {stack_name}; emptied {buckets}"))
