"""Build the Lambda zip, create/update the CloudFormation stack, and tear it all down again.

`deploy` creates the stack (the function starts with a placeholder), uploads the zip into the
stack's own processed bucket under `_deploy/`, and points the function at it. `destroy` empties
the buckets the stack created (every version) and deletes the stack; no other bucket is touched.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from loglake.errors import ConfigError, Terminal

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "template.yaml"
LAMBDA_REQUIREMENTS = ("pyarrow", "orjson", "msgspec", "zstandard", "boto3", "pyiceberg")
"""What the handler imports beyond the standard library (DuckDB, the console and the shell stay out of the
zip); pyiceberg without its SQLite-catalog extra (a Lambda commits through Glue)."""
PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
CODE_KEY = "_deploy/loglake-lambda.zip"
SHIM = "from loglake.aws.handler import handler  # noqa: F401  (the function's Handler is index.handler)\n"


def template_body() -> str:
    if not TEMPLATE.exists():
        raise ConfigError(
            f"the CloudFormation template is not at {TEMPLATE}",
            hint="run deploy from a LogLake checkout (deploy/template.yaml)",
        )
    return TEMPLATE.read_text()


def _requirements() -> list[str]:
    """The project's own version ranges for the handler's dependencies."""
    wanted = []
    for req in importlib.metadata.requires("loglake") or []:
        if ";" in req:
            continue
        name = re.split(r"[<>=!~\[ ]", req, maxsplit=1)[0].lower()
        if name in LAMBDA_REQUIREMENTS:
            wanted.append(re.sub(r"\[[^\]]*\]", "", req) if name == "pyiceberg" else req)
    return wanted


def build_zip(output: str | Path, arch: str = "arm64", python: str = "3.12", platform: str | None = None) -> Path:
    """Install manylinux wheels for the Lambda's platform into a folder, add LogLake, zip it."""
    if arch not in PLATFORMS and platform is None:
        raise ConfigError(f"unknown architecture `{arch}`", hint="use arm64 or x86_64")
    out = Path(output).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="loglake-package-") as tmp:
        build = Path(tmp) / "build"
        cmd = [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--target", str(build), "--only-binary=:all:", "--implementation", "cp",
            "--python-version", python, "--platform", platform or PLATFORMS[arch], *_requirements(),
        ]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise Terminal(f"installing the Lambda's dependencies failed:\n{done.stderr.strip()[-2000:]}")
        package = Path(__file__).resolve().parents[1]
        shutil.copytree(package, build / "loglake", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        (build / "index.py").write_text(SHIM)
        for junk in ("pyarrow/include", "pyarrow/tests", "pyarrow/src"):
            shutil.rmtree(build / junk, ignore_errors=True)
        # Arrow Flight is never loaded by the handler: 20 MB of the 250 MB a Lambda allows unzipped.
        for path in (build / "pyarrow").glob("*flight*"):
            path.unlink()
        tmp_zip = out.with_suffix(".zip.tmp")
        with zipfile.ZipFile(tmp_zip, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            for path in sorted(build.rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    zf.write(path, path.relative_to(build).as_posix())
        os.replace(tmp_zip, out)
    return out


def _cfn() -> Any:
    from loglake.storage.s3 import s3_client

    return s3_client("cloudformation")


def _outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def describe(stack_name: str) -> dict[str, Any] | None:
    try:
        return _cfn().describe_stacks(StackName=stack_name)["Stacks"][0]  # type: ignore[no-any-return]
    except Exception as exc:
        if "does not exist" in str(exc):
            return None
        raise


def deploy(stack_name: str, zip_path: Path | None, parameters: dict[str, str], progress: Any = print) -> dict[str, str]:
    """Create or update the stack, then upload the code. Returns the stack's outputs."""
    from loglake.storage.s3 import s3_client

    cfn = _cfn()
    params = [{"ParameterKey": k, "ParameterValue": str(v)} for k, v in parameters.items()]
    caps = ["CAPABILITY_IAM"]
    existing = describe(stack_name)
    if existing is None:
        progress(f"creating stack {stack_name}")
        cfn.create_stack(StackName=stack_name, TemplateBody=template_body(), Parameters=params, Capabilities=caps)
        cfn.get_waiter("stack_create_complete").wait(
            StackName=stack_name, WaiterConfig={"Delay": 5, "MaxAttempts": 360}
        )
    else:
        progress(f"updating stack {stack_name}")
        try:
            cfn.update_stack(StackName=stack_name, TemplateBody=template_body(), Parameters=params, Capabilities=caps)
            cfn.get_waiter("stack_update_complete").wait(
                StackName=stack_name, WaiterConfig={"Delay": 5, "MaxAttempts": 360}
            )
        except Exception as exc:
            if "No updates are to be performed" not in str(exc):
                raise
    stack = describe(stack_name)
    assert stack is not None
    outputs = _outputs(stack)
    outputs.setdefault("AthenaWorkGroup", f"{stack_name}-workgroup")  # the template's name for it
    _write_lake_settings(outputs, progress)
    if zip_path is not None:
        progress(f"uploading {zip_path.name} to s3://{outputs['ProcessedBucketName']}/{CODE_KEY}")
        s3_client("s3").upload_file(str(zip_path), outputs["ProcessedBucketName"], CODE_KEY)
        lam = s3_client("lambda")
        lam.update_function_code(
            FunctionName=outputs["FunctionName"], S3Bucket=outputs["ProcessedBucketName"], S3Key=CODE_KEY
        )
        try:
            lam.get_waiter("function_updated_v2").wait(FunctionName=outputs["FunctionName"])
        except Exception as exc:
            progress(f"(could not wait for the function update: {exc})")
    return outputs


def _write_lake_settings(outputs: dict[str, str], progress: Any) -> None:
    """Point `loglake query --engine athena` at the stack's workgroup, unless the user has settings already."""
    from loglake.storage.s3 import s3_client

    s3 = s3_client("s3")
    bucket = outputs["ProcessedBucketName"]
    try:
        s3.head_object(Bucket=bucket, Key="loglake.toml")
        return
    except Exception as exc:
        if "404" not in str(exc) and "Not Found" not in str(exc):
            raise
    body = f'# Written by `loglake deploy`.\n[aws]\nathena_workgroup = "{outputs["AthenaWorkGroup"]}"\n'
    s3.put_object(Bucket=bucket, Key="loglake.toml", Body=body.encode())
    progress(f"wrote s3://{bucket}/loglake.toml (Athena workgroup {outputs['AthenaWorkGroup']})")


def _empty_bucket(s3: Any, bucket: str) -> int:
    """Delete every object version and delete marker (the tutorial's cleanup step)."""
    deleted = 0
    paginator = s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket):
        items = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        for i in range(0, len(items), 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": items[i : i + 1000], "Quiet": True})
            deleted += len(items[i : i + 1000])
    return deleted


def destroy(stack_name: str, progress: Any = print) -> dict[str, int]:
    """Empty the stack's own buckets, then delete the stack. Other buckets are never touched."""
    from loglake.storage.s3 import s3_client

    cfn = _cfn()
    if describe(stack_name) is None:
        raise ConfigError(f"stack `{stack_name}` does not exist", hint="check the name and region")
    s3 = s3_client("s3")
    emptied: dict[str, int] = {}
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack_name):
        for res in page["StackResourceSummaries"]:
            if res["ResourceType"] == "AWS::S3::Bucket" and res.get("PhysicalResourceId"):
                bucket = res["PhysicalResourceId"]
                progress(f"emptying s3://{bucket}")
                try:
                    emptied[bucket] = _empty_bucket(s3, bucket)
                except Exception as exc:
                    if "NoSuchBucket" not in str(exc):
                        raise
    progress(f"deleting stack {stack_name}")
    cfn.delete_stack(StackName=stack_name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=stack_name, WaiterConfig={"Delay": 5, "MaxAttempts": 360})
    return emptied
