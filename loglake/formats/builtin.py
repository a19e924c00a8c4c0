"""The built-in formats. Most are data: a regex with named groups, a timestamp parser, a level rule.

Group names are the column names users query, so they are part of the contract (see README).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any, ClassVar

import orjson

from loglake.formats import timestamps as ts
from loglake.formats.base import Format, Line, Outcome, Parsed, ParseFailure, RegexFormat, decode
from loglake.formats.generic import GenericText
from loglake.formats.jsonl import JsonLines
from loglake.formats.reader import Overlong

LEVEL_WORDS = r"TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|SEVERE|CRITICAL|FATAL|trace|debug|info|notice|warn|warning|error|critical|fatal"
SYSLOG_SEVERITY = ("FATAL", "CRITICAL", "CRITICAL", "ERROR", "WARN", "NOTICE", "INFO", "DEBUG")


def _http_level(record: dict[str, Any]) -> str | None:
    status = record.get("status") if "status" in record else record.get("elb_status_code")
    if type(status) is not int:
        return None
    return "ERROR" if status >= 500 else "WARN" if status >= 400 else "INFO"


def _syslog_level(record: dict[str, Any]) -> str | None:
    pri = record.get("pri")
    if type(pri) is not int or not 0 <= pri <= 191:
        return None
    record["facility"] = pri // 8
    record["severity"] = pri % 8
    return SYSLOG_SEVERITY[pri % 8]


def _apache_level(record: dict[str, Any]) -> str | None:
    level = record.get("level")
    return level.rstrip("0123456789") if isinstance(level, str) else None


ALTERNATES = (("app_alt", "app"), ("pid_alt", "pid"), ("logger_alt", "logger"))
"""Groups a pattern's second alternative captures (a regex cannot name one group twice), and their columns."""


def merge_alternates(record: dict[str, Any]) -> None:
    for alt, name in ALTERNATES:
        if alt in record:
            record[name] = record.pop(alt)


def _split_request(record: dict[str, Any]) -> None:
    parts = record.get("request", "").split(" ")
    if len(parts) == 3:
        record["method"], record["path"], record["protocol"] = parts


def _json_message(record: dict[str, Any]) -> None:
    """A CloudWatch message that is itself a JSON object, or a Lambda line, becomes fields (its own
    time wins nothing: the export's is the event's)."""
    message = record.get("message", "")
    if not message.startswith("{"):
        inner_line = LAMBDA.parse_text(message)
        if type(inner_line) is dict:
            inner_line.pop("timestamp", None)
            record.update(inner_line)
            record["message_format"] = "lambda"
        return
    try:
        inner = orjson.loads(message)
    except orjson.JSONDecodeError:
        return
    if type(inner) is dict:
        inner.pop("timestamp", None)
        record.update(inner)
        if "message" not in inner:
            record["message"] = message


class LambdaRuntime(Format):
    """AWS Lambda's own lines, the most common logs in CloudWatch: the platform's START, END, REPORT
    and INIT_* lines (request id, durations and memory as numbers) and the Python and Node.js
    runtimes' tab-separated lines. Python tracebacks that follow an `[ERROR]` line join it."""

    name = "lambda"
    description = "AWS Lambda: START/END/REPORT/INIT_START lines, Python `[LEVEL]\\ttime\\trequest id\\tmessage`, Node.js `time\\trequest id\\tLEVEL\\tmessage`"
    example = "REPORT RequestId: 8f507cfc-12d4-4e36-9b4c-e2a9b8d6f5a1\tDuration: 9.14 ms\tBilled Duration: 10 ms\tMemory Size: 128 MB\tMax Memory Used: 70 MB"
    multiline = True

    _LEVELS = "TRACE|DEBUG|INFO|WARN|WARNING|ERROR|CRITICAL|FATAL"
    _TIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z"
    _PLATFORM = re.compile(
        r"^(?P<lambda_event>START|END|REPORT|INIT_START|INIT_REPORT|INIT_RUNTIME_DONE|RESTORE_START|RESTORE_REPORT)"
        r"(?: (?P<fields>(?s:.*)))?$"
    )
    _START = re.compile(r"RequestId: (?P<request_id>\S+)(?: Version: (?P<version>\S+))?")
    _PYTHON = re.compile(
        rf"^\[(?P<level>{_LEVELS})\]\t(?P<timestamp>{_TIME})\t(?P<request_id>[^\t]*)\t(?P<message>(?s:.*))$"
    )
    _PYTHON_BARE = re.compile(rf"^\[(?P<level>{_LEVELS})\] (?P<message>(?s:\S.*))$")
    _NODE = re.compile(rf"^(?P<timestamp>{_TIME})\t(?P<request_id>[^\t]*)\t(?P<level>{_LEVELS})\t(?P<message>(?s:.*))$")
    _KEY = re.compile(r"[^a-z0-9]+")
    _NO_REQUEST = frozenset(("", "undefined", "None"))
    _FAILED = frozenset(("error", "timeout", "failure"))

    def parse_line(self, line: bytes) -> Outcome:
        text = decode(line, self.fallback_encoding)
        if type(text) is not str:
            return text  # type: ignore[return-value]
        return self.parse_text(text)

    def parse_text(self, text: str) -> Outcome:
        """An already decoded line (a CloudWatch event's message)."""
        text = text.rstrip("\r\n")
        m = self._PLATFORM.match(text)
        if m is not None:
            return self._platform(m.group("lambda_event"), m.group("fields") or "", text)
        m = self._PYTHON.match(text) or self._NODE.match(text) or self._PYTHON_BARE.match(text)
        if m is None:
            return ParseFailure("unparsed_line", "does not match the `lambda` format")
        record: dict[str, Any] = {k: v for k, v in m.groupdict().items() if v is not None}
        if record.get("request_id") in self._NO_REQUEST:
            del record["request_id"]
        if "timestamp" in record:
            when = ts.iso(record["timestamp"])
            if when is None:
                return ParseFailure("bad_timestamp", f"`{record['timestamp']}` is not a Lambda runtime timestamp")
            record["timestamp"] = when
        return record

    def _platform(self, event: str, fields: str, text: str) -> Outcome:
        record: dict[str, Any] = {"lambda_event": event, "level": "INFO", "message": text.rstrip(" \t\n")}
        if event == "START" or event == "END":
            m = self._START.match(fields)
            if m is None:
                return ParseFailure("unparsed_line", f"`{event}` line without a RequestId")
            record.update({k: v for k, v in m.groupdict().items() if v is not None})
            return record
        for part in re.split(r"[\t\n]+", fields):
            key, sep, value = part.partition(": ")
            if not sep:
                continue
            self._field(record, key.strip(), value.strip())
        if str(record.get("status", "")).lower() in self._FAILED:
            record["level"] = "ERROR"
        return record

    def _field(self, record: dict[str, Any], key: str, value: str) -> None:
        """`Billed Duration: 10 ms` → billed_duration_ms = 10; `Memory Size: 128 MB` → memory_size_mb = 128."""
        name = self._KEY.sub("_", key.lower()).strip("_")
        if name == "requestid":
            name = "request_id"
        elif name.startswith("xray_"):
            name = {"xray_traceid": "xray_trace_id"}.get(name, name)
        number, _, unit = value.partition(" ")
        if unit in ("ms", "MB"):
            name += "_" + unit.lower()
            integral = unit == "MB" or name.startswith("billed_")
            with contextlib.suppress(ValueError):
                record[name] = int(float(number)) if integral else float(number)
                return
        if name == "sampled":
            record["xray_sampled"] = value == "true"
            return
        record[{"segmentid": "xray_segment_id"}.get(name, name)] = value


LAMBDA = LambdaRuntime()
LOG4J = RegexFormat(
    "log4j",
    rf"^(?P<timestamp>\d{{4}}-\d{{2}}-\d{{2}}[ T]\d{{2}}:\d{{2}}:\d{{2}}[,.]\d{{3}})\s+(?:-\s+)?(?P<level>{LEVEL_WORDS})\s+"
    # Hadoop's layout names the class with a colon and no dash: `[main] org.apache.…MRAppMaster: Created …`.
    r"(?:\[(?P<thread>.*?)\]\s+)?(?:-\s+|(?P<logger>[\w.$]+(?:@\d+)?):?\s+-\s+|(?P<logger_alt>[\w$]+(?:\.[\w$]+)+):\s+)?"
    r"(?P<message>.*)$",
    timestamp=ts.iso,
    post=merge_alternates,
    multiline=True,
    description="log4j/logback default layouts: ISO date with comma milliseconds, level, [thread], message",
    example="2015-07-29 17:41:44,747 - INFO  [main:QuorumPeer@913] - Notification time out: 3200",
)
SPARK = RegexFormat(
    "spark",
    rf"^(?P<timestamp>\d{{2}}/\d{{2}}/\d{{2}} \d{{2}}:\d{{2}}:\d{{2}}) (?P<level>{LEVEL_WORDS}) (?P<component>[^\s:]+): (?P<message>.*)$",
    timestamp=ts.strptime("%y/%m/%d %H:%M:%S"),
    multiline=True,
    description="Spark/Hadoop log4j `yy/MM/dd HH:mm:ss LEVEL component: message`",
    example="17/06/09 20:10:40 INFO spark.SecurityManager: Changing view acls to: yarn,curi",
)
HDFS = RegexFormat(
    "hdfs",
    rf"^(?P<timestamp>\d{{6}} \d{{6}}) (?P<pid>\d+) (?P<level>{LEVEL_WORDS}) (?P<component>[^\s:]+): (?P<message>.*)$",
    timestamp=ts.strptime("%y%m%d %H%M%S"),
    ints=("pid",),
    multiline=True,
    description="Hadoop HDFS `yyMMdd HHmmss pid LEVEL component: message`",
    example="081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 terminating",
)
APACHE_ERROR = RegexFormat(
    "apache_error",
    r"^\[(?P<timestamp>[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}(?:\.\d+)? \d{4})\] "
    r"\[(?:(?P<module>[a-z0-9_]+):)?(?P<level>[a-z]+\d?)\]"
    r"(?: \[pid (?P<pid>\d+)(?::tid (?P<tid>\d+))?\])? ?(?P<message>(?:\[client (?P<client>[^\]]+)\] )?.*)$",
    timestamp=ts.apache_error,
    level=_apache_level,
    ints=("pid", "tid"),
    description="Apache httpd error log (2.2 and 2.4 layouts)",
    example="[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6",
)
ACCESS_LOG = RegexFormat(
    "access_log",
    r'^(?P<client>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<timestamp>[^\]]+)\] "(?P<request>(?:[^"\\]|\\.)*)" '
    r'(?P<status>\d{3}) (?P<bytes>\d+|-)(?: "(?P<referer>(?:[^"\\]|\\.)*)" "(?P<user_agent>(?:[^"\\]|\\.)*)")?(?P<extra>.*)$',
    timestamp=ts.strptime("%d/%b/%Y:%H:%M:%S %z"),
    level=_http_level,
    ints=("status", "bytes"),
    message="request",
    post=_split_request,
    description="Apache/Nginx access log, common or combined; level from the status (5xx ERROR, 4xx WARN)",
    example='127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "-" "curl/8.0"',
)
SYSLOG_5424 = RegexFormat(
    "syslog5424",
    r"^<(?P<pri>\d{1,3})>1 (?P<timestamp>\S+) (?P<host>\S+) (?P<app>\S+) (?P<procid>\S+) (?P<msgid>\S+) "
    r"(?P<structured_data>-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: (?:\ufeff)?(?P<message>.*))?$",
    timestamp=ts.iso,
    level=_syslog_level,
    ints=("pri",),
    description="syslog RFC 5424; level from the PRI severity",
    example="<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 - An application event",
)
SYSLOG_3164 = RegexFormat(
    "syslog",
    r"^(?:<(?P<pri>\d{1,3})>)?(?P<timestamp>[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}) (?P<host>\S+) "
    # sysklogd writes its own tag with a version (`syslogd 1.4.1:`) and login writes `-- root[2421]:`.
    # macOS tags hold spaces (`Microsoft Word[14463]:`) and the responsible process (`sandboxd[129] ([31211]):`).
    r"\s*(?:(?:(?P<app>(?:-- )?[^\s:\[]+(?: \d[\w.]*)?)(?:\[(?P<pid>\d+)\])?"
    r"|(?P<app_alt>[^\s:\[][^:\[\]]*?)\[(?P<pid_alt>\d+)\])(?: \(\[(?P<responsible_pid>\d+)\]\))?: ?)?(?P<message>.*)$",
    timestamp=ts.syslog_3164(),
    level=_syslog_level,
    ints=("pri", "pid", "pid_alt", "responsible_pid"),
    post=merge_alternates,
    provides_level=False,
    description="syslog RFC 3164 / BSD (year inferred); level from PRI when present",
    example="Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; rhost=218.188.2.4",
)
PLAIN = RegexFormat(
    "plain",
    rf"^(?P<timestamp>\d{{4}}-\d{{2}}-\d{{2}}[T ]\d{{2}}:\d{{2}}:\d{{2}}(?:[.,]\d+)?(?:Z|[+-]\d{{2}}:?\d{{2}})?)\s+"
    rf"\[?(?P<level>{LEVEL_WORDS})\]?:?\s+(?P<message>.*)$",
    timestamp=ts.iso,
    multiline=True,
    description="plain application lines: ISO timestamp, level, message",
    example="2025-07-21T10:00:00Z INFO user logged in",
)
PLAIN_BRACKET = RegexFormat(
    "plain_bracket",
    rf"^\[(?P<timestamp>\d{{4}}-\d{{2}}-\d{{2}}[T ]\d{{2}}:\d{{2}}:\d{{2}}(?:[.,]\d+)?(?:Z|[+-]\d{{2}}:?\d{{2}})?)\]\s+"
    rf"\[?(?P<level>{LEVEL_WORDS})\]?:?\s+(?P<message>.*)$",
    timestamp=ts.iso,
    multiline=True,
    description="plain application lines with the timestamp in brackets",
    example="[2025-07-21 10:00:00] ERROR payment declined",
)
CLOUDWATCH_EXPORT = RegexFormat(
    "cloudwatch_export",
    r"^(?P<timestamp>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z) (?P<message>.*)$",
    timestamp=ts.iso,
    provides_level=False,
    post=_json_message,
    description="CloudWatch Logs export to S3: ISO timestamp, space, the event's message (JSON messages become fields)",
    example='2025-07-21T10:00:00.000Z {"level": "info", "message": "started"}',
)


class Logfmt(Format):
    """`key=value key2="quoted value"`; ts/time, level/lvl, msg/message map to the common fields."""

    name = "logfmt"
    description = "logfmt / key=value pairs"
    example = 'ts=2025-07-21T10:00:00Z level=info msg="user logged in" user=42 duration=0.25'
    provides_level = False
    PAIR = re.compile(r'[ \t]*([^\s="]+)=("(?:[^"\\]|\\.)*"|[^\s"]*)')
    ALIASES: ClassVar[dict[str, str]] = {
        "ts": "timestamp",
        "time": "timestamp",
        "lvl": "level",
        "severity": "level",
        "msg": "message",
    }

    def parse_line(self, line: bytes) -> Outcome:
        text = decode(line, self.fallback_encoding)
        if type(text) is not str:
            return text  # type: ignore[return-value]
        text = text.rstrip("\r \t")
        pairs: list[tuple[str, str]] = []
        pos, end, match = 0, len(text), self.PAIR.match
        while pos < end:  # strictly left to right: linear even on hostile lines
            m = match(text, pos)
            if m is None:
                return ParseFailure("unparsed_line", f"not key=value pairs (at offset {pos})")
            pairs.append((m.group(1), m.group(2)))
            pos = m.end()
        if len(pairs) < 2:
            return ParseFailure("unparsed_line", "not key=value pairs")
        record: dict[str, Any] = {}
        for key, value in pairs:
            if value.startswith('"'):
                value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            record[self.ALIASES.get(key, key)] = value
        if "timestamp" in record:
            parsed = ts.iso(record["timestamp"])
            if parsed is None:
                return ParseFailure("bad_timestamp", f"`{record['timestamp']}` is not a timestamp")
            record["timestamp"] = parsed
        record.setdefault("message", text)
        return record


_TOKENS = re.compile(r'"((?:[^"\\]|\\.)*)"|(\S+)')


def _tokens(text: str) -> list[str]:
    return [q if q or b is None else b for q, b in _TOKENS.findall(text)]


class Alb(Format):
    """AWS Application Load Balancer access logs (fields as documented by AWS, in order)."""

    name = "alb"
    description = "AWS ALB access logs; level from elb_status_code"
    example = (
        "https 2025-07-21T10:00:00.123456Z app/my-lb/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 "
        '200 200 34 366 "GET https://www.example.com:443/ HTTP/1.1" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 '
        "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "
        '"Root=1-58337281-1d84f3d73c47ec4e58577259" "www.example.com" "arn:aws:acm:us-east-2:123456789012:certificate/12345678" '
        '1 2025-07-21T09:59:59.999000Z "authenticate,forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_1234'
    )
    FIELDS = (
        "type", "timestamp", "elb", "client", "target", "request_processing_time", "target_processing_time",
        "response_processing_time", "elb_status_code", "target_status_code", "received_bytes", "sent_bytes",
        "request", "user_agent", "ssl_cipher", "ssl_protocol", "target_group_arn", "trace_id", "domain_name",
        "chosen_cert_arn", "matched_rule_priority", "request_creation_time", "actions_executed", "redirect_url",
        "error_reason", "target_port_list", "target_status_code_list", "classification", "classification_reason",
        "conn_trace_id",
    )  # fmt: skip
    INTS = ("elb_status_code", "target_status_code", "received_bytes", "sent_bytes", "matched_rule_priority")
    FLOATS = ("request_processing_time", "target_processing_time", "response_processing_time")
    TYPES = frozenset(("http", "https", "h2", "grpcs", "ws", "wss"))

    def parse_line(self, line: bytes) -> Outcome:
        text = decode(line, self.fallback_encoding)
        if type(text) is not str:
            return text  # type: ignore[return-value]
        if text.split(" ", 1)[0] not in self.TYPES:
            return ParseFailure("unparsed_line", "not an ALB access log entry")
        tokens = _tokens(text.rstrip("\r"))
        if len(tokens) < 13:
            return ParseFailure("unparsed_line", "not an ALB access log entry")
        record: dict[str, Any] = {k: v for k, v in zip(self.FIELDS, tokens, strict=False) if v != "-"}
        when = ts.iso(record.get("timestamp", ""))
        if when is None:
            return ParseFailure("bad_timestamp", f"`{tokens[1]}` is not a timestamp")
        record["timestamp"] = when
        for key in self.INTS:
            if key in record and record[key].lstrip("-").isdigit():
                record[key] = int(record[key])
        for key in self.FLOATS:
            if key in record:
                with contextlib.suppress(ValueError):
                    record[key] = float(record[key])
        _split_request(record)
        record["message"] = record.get("request", text)
        level = _http_level(record)
        if level:
            record["level"] = level
        return record


class VpcFlow(Format):
    """VPC flow logs; a header line names the fields (custom formats), otherwise the default v2 fields."""

    name = "vpc_flow"
    description = "VPC flow logs (default or custom fields; header line recognised)"
    example = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK"
    provides_level = False
    DEFAULT: ClassVar[list[str]] = [
        "version",
        "account-id",
        "interface-id",
        "srcaddr",
        "dstaddr",
        "srcport",
        "dstport",
        "protocol",
        "packets",
        "bytes",
        "start",
        "end",
        "action",
        "log-status",
    ]
    KNOWN = frozenset(DEFAULT) | frozenset(
        [
            "vpc-id",
            "subnet-id",
            "instance-id",
            "tcp-flags",
            "type",
            "pkt-srcaddr",
            "pkt-dstaddr",
            "region",
            "az-id",
            "sublocation-type",
            "sublocation-id",
            "pkt-src-aws-service",
            "pkt-dst-aws-service",
            "flow-direction",
            "traffic-path",
            "ecs-cluster-arn",
            "ecs-cluster-name",
            "ecs-container-instance-arn",
            "ecs-container-instance-id",
            "ecs-container-id",
            "ecs-second-container-id",
            "ecs-service-name",
            "ecs-task-definition-arn",
            "ecs-task-arn",
            "ecs-task-id",
            "reject-reason",
        ]
    )
    INTS = frozenset(["version", "srcport", "dstport", "protocol", "packets", "bytes", "start", "end", "tcp-flags"])

    def _header(self, text: str) -> list[str] | None:
        words = text.split()
        return words if len(words) >= 3 and all(w in self.KNOWN for w in words) else None

    def parse_fields(self, text: str, fields: list[str]) -> Outcome:
        values = text.split()
        if len(values) != len(fields):
            return ParseFailure("unparsed_line", f"{len(values)} fields, the flow log format has {len(fields)}")
        record: dict[str, Any] = {}
        for key, value in zip(fields, values, strict=True):
            if value == "-":
                continue
            name = key.replace("-", "_")
            if key in self.INTS:
                if not value.isdigit():
                    return ParseFailure("unparsed_line", f"`{key}` is `{value}`, not a number")
                record[name] = int(value)
            else:
                record[name] = value
        if "start" in record:
            record["timestamp"] = ts.parse_timestamp(record["start"])
        record["message"] = text
        return record

    def parse_line(self, line: bytes) -> Outcome:
        text = decode(line, self.fallback_encoding)
        if type(text) is not str:
            return text  # type: ignore[return-value]
        return self.parse_fields(text.rstrip("\r"), self.DEFAULT)

    def sniff(self, sample: list[bytes], beat: int = 0) -> int:
        fields, score, left = self.DEFAULT, 0, len(sample)
        for line in sample:
            if score + left <= beat:
                break
            left -= 1
            text = line.decode("utf-8", "replace")
            header = self._header(text)
            if header:
                fields, score = header, score + 1
            elif type(self.parse_fields(text, fields)) is dict:
                score += 1
        return score

    def records(self, lines: Iterator[Line]) -> Iterator[Parsed]:
        fields = self.DEFAULT
        for lineno, raw in lines:
            if type(raw) is Overlong:
                yield lineno, raw, ParseFailure("line_too_long", f"line is {raw.length} bytes, over the limit"), 1
                continue
            data: bytes = raw  # type: ignore[assignment]
            if not data or data.isspace():
                yield lineno, data, None, 1
                continue
            text = decode(data, self.fallback_encoding)
            if type(text) is not str:
                yield lineno, data, text, 1  # type: ignore[misc]
                continue
            header = self._header(text)
            if header:
                fields = header
                yield lineno, data, None, 1  # a header is framing, like a blank line
                continue
            yield lineno, data, self.parse_fields(text.rstrip("\r"), fields), 1


class JsonDocument(Format):
    """A whole JSON document: a top-level array, one (pretty-printed) object, or CloudTrail's `{"Records": [...]}`.

    Each element is one record, numbered by the line it starts on; an element that is not valid
    JSON is an error on its own without losing its neighbours.
    """

    name = "json_document"
    description = 'JSON documents: a top-level array, a pretty-printed object, or {"Records": [...]}'
    example = '{"Records": [{"eventTime": "2025-07-21T10:00:00Z", "eventName": "PutObject", ...}]}'
    max_document_bytes = 512 * 1024 * 1024

    def parse_line(self, line: bytes) -> Outcome:
        return ParseFailure("unparsed_line", "a JSON document is parsed whole")

    def sniff(self, sample: list[bytes], beat: int = 0) -> int:
        if not sample:
            return 0
        first = sample[0].lstrip(b"\xef\xbb\xbf \t")
        if not first.startswith((b"[", b"{")):
            return 0
        try:
            value = orjson.loads(first)
        except orjson.JSONDecodeError:
            pass
        else:
            if type(value) is dict:  # a whole object on the first line: JSON Lines, unless it is CloudTrail's
                return len(sample) + 1 if type(value.get("Records")) is list else 0
            return len(sample) + 1 if type(value) is list else 0
        # A document spread over lines: it must open like JSON, and few of its lines are objects on their own.
        rest = first[1:].strip()
        opens_json = not rest or rest[:1] in (b'"', b"{", b"[", b"}", b"]")
        return sum(1 for line in sample if not _is_object(line)) if opens_json else 0

    def records(self, lines: Iterator[Line]) -> Iterator[Parsed]:
        starts: list[int] = []
        chunks: list[bytes] = []
        size = 0
        last = 0
        for lineno, raw in lines:
            last = lineno
            data = raw.head if type(raw) is Overlong else raw
            starts.append(size)
            chunks.append(data)  # type: ignore[arg-type]
            size += len(data) + 1  # type: ignore[arg-type]
            if size > self.max_document_bytes:
                from loglake.errors import ObjectError

                raise ObjectError("<document>", f"JSON document larger than {self.max_document_bytes} bytes")
        doc = b"\n".join(chunks)
        if not doc.strip():
            for blank_line in range(1, last + 1):
                yield blank_line, b"", None, 1
            return
        spans = list(_elements(doc))
        if spans is None or not spans:
            yield from self._whole(doc, last)
            return
        line_of = _line_index(starts)
        used = 0
        for start, end in spans:
            first, final = line_of(start), line_of(max(start, end - 1))
            for blank_line in range(used + 1, first):
                yield blank_line, b"", None, 1
            piece = doc[start:end]
            try:
                value = orjson.loads(piece)
                outcome: Outcome = (
                    _cloudtrail(value)
                    if type(value) is dict
                    else ParseFailure("not_an_object", "element is not an object")
                )
            except orjson.JSONDecodeError as exc:
                outcome = ParseFailure("invalid_json", f"element is not valid JSON: {exc}")
            # Span = lines this record adds: 0 for a record on a line an earlier one already counted.
            yield first, piece, outcome, final - max(first - 1, used)
            used = max(used, final)
        for blank_line in range(used + 1, last + 1):
            yield blank_line, b"", None, 1

    def _whole(self, doc: bytes, last: int) -> Iterator[Parsed]:
        try:
            value = orjson.loads(doc)
        except orjson.JSONDecodeError as exc:
            yield 1, doc[:1024], ParseFailure("invalid_json", f"the document is not valid JSON: {exc}"), max(last, 1)
            return
        if type(value) is dict:
            yield 1, doc[:1024], value, max(last, 1)
        else:
            yield (
                1,
                doc[:1024],
                ParseFailure("not_an_object", "the document is not an object or array of objects"),
                max(last, 1),
            )


_DENIED = (
    "AccessDenied",
    "Unauthorized",
    "Forbidden",
    "NotAuthorized",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
)


def _cloudtrail(record: dict[str, Any]) -> dict[str, Any]:
    """A CloudTrail event in the common record: `eventTime` is the time, `eventSource:eventName` the message,
    and the level says whether the call failed (`errorCode`): ERROR when access was denied, WARN for other
    failures, INFO otherwise. Fields the event already has are left alone."""
    if "eventTime" not in record or "eventName" not in record or "eventSource" not in record:
        return record
    record.setdefault("timestamp", record["eventTime"])
    record.setdefault("message", f"{record['eventSource']}:{record['eventName']}")
    if "level" not in record:
        code = record.get("errorCode")
        denied = isinstance(code, str) and any(word in code for word in _DENIED)
        record["level"] = "INFO" if not code else "ERROR" if denied else "WARN"
    return record


def _is_object(line: bytes) -> bool:
    try:
        return type(orjson.loads(line)) is dict
    except orjson.JSONDecodeError:
        return False


def _line_index(starts: list[int]) -> Any:
    import bisect

    return lambda offset: bisect.bisect_right(starts, offset)


def _elements(doc: bytes) -> Iterator[tuple[int, int]]:
    """Byte ranges of the records: items of a top-level array or of `"Records"`; nothing for a plain object."""
    i, n = 0, len(doc)
    while i < n and doc[i] in b" \t\r\n\xef\xbb\xbf":
        i += 1
    if i >= n:
        return
    if doc[i : i + 1] == b"{":
        m = re.match(rb'\{\s*"Records"\s*:\s*\[', doc[i:])
        if not m:
            return
        i += m.end() - 1
    elif doc[i : i + 1] != b"[":
        return
    yield from _array_items(doc, i)


def _array_items(doc: bytes, i: int) -> Iterator[tuple[int, int]]:
    """Scan one JSON array starting at doc[i] == '[' and yield each item's byte range."""
    depth, in_str, esc, start = 0, False, False, -1
    n = len(doc)
    while i < n:
        c = doc[i]
        if in_str:
            if esc:
                esc = False
            elif c == 0x5C:  # backslash
                esc = True
            elif c == 0x22:
                in_str = False
        elif c == 0x22:
            in_str = True
            if depth == 1 and start < 0:
                start = i
        elif c in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth == 2 and start < 0:
                start = i
        elif c in (0x5D, 0x7D):  # ] }
            if depth == 1:
                if start >= 0:
                    yield start, _rstrip(doc, start, i)
                return
            depth -= 1
        elif c == 0x2C and depth == 1:  # ,
            if start >= 0:
                yield start, _rstrip(doc, start, i)
            start = -1
        elif depth == 1 and start < 0 and c not in b" \t\r\n":
            start = i
        i += 1
    if start >= 0:
        yield start, n


def _rstrip(doc: bytes, start: int, end: int) -> int:
    while end > start and doc[end - 1] in b" \t\r\n":
        end -= 1
    return end


BUILTIN: list[Format] = [
    JsonLines(),
    JsonDocument(),
    LAMBDA,
    LOG4J,
    SPARK,
    HDFS,
    APACHE_ERROR,
    ACCESS_LOG,
    Alb(),
    VpcFlow(),
    SYSLOG_5424,
    SYSLOG_3164,
    PLAIN_BRACKET,
    PLAIN,
    CLOUDWATCH_EXPORT,
    Logfmt(),
]
"""In detection priority order: on a tie, the earlier (more specific) format wins."""

GENERIC = GenericText()
"""Tried after all of them (see `FormatRegistry.detect`)."""
