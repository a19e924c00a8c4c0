"""Each built-in format on sample lines written from its documentation, through the real pipeline."""

from __future__ import annotations

from datetime import datetime

import pytest

from loglake.config import FormatsConfig, Settings
from loglake.lake import Lake
from tests.conftest import query

ALB_LINE = (
    "https 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 "
    '0.086 0.048 0.037 200 200 0 57 "GET https://www.example.com:443/ HTTP/1.1" "curl/7.46.0" '
    "ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 "
    "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "
    '"Root=1-58337281-1d84f3d73c47ec4e58577259" "www.example.com" '
    '"arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012" 1 '
    '2018-07-02T22:22:48.364000Z "authenticate,forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_1234abcd'
)

# (format, lines, expected fields of the first record) — lines follow each format's documentation.
CASES = [
    (
        "access_log",
        [
            '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326',
            '192.168.2.20 - - [28/Jul/2006:10:27:10 -0300] "GET /cgi-bin/try/ HTTP/1.0" 500 -',
        ],
        {
            "client": "127.0.0.1",
            "user": "frank",
            "method": "GET",
            "path": "/apache_pb.gif",
            "status": 200,
            "bytes": 2326,
            "level": "INFO",
            "timestamp": datetime(2000, 10, 10, 20, 55, 36),
        },
    ),
    (
        "access_log",
        [
            '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 404 2326 '
            '"http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"',
        ],
        {
            "referer": "http://www.example.com/start.html",
            "user_agent": "Mozilla/4.08 [en] (Win98; I ;Nav)",
            "level": "WARN",
            "message": "GET /apache_pb.gif HTTP/1.0",
        },
    ),
    (
        "apache_error",
        [
            "[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187] "
            "File does not exist: /usr/local/apache2/htdocs/favicon.ico",
        ],
        {
            "module": "core",
            "level": "ERROR",
            "pid": 35708,
            "tid": 4328636416,
            "client": "72.15.99.187",
            "timestamp": datetime(2011, 9, 9, 10, 42, 29, 902022),
        },
    ),
    (
        "syslog",
        ["<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8"],
        {
            "host": "mymachine",
            "app": "su",
            "level": "CRITICAL",
            "facility": 4,
            "severity": 2,
            "message": "'su root' failed for lonvick on /dev/pts/8",
        },
    ),
    (
        "syslog5424",
        [
            "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
            '[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] An application event log entry',
            "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed for lonvick",
        ],
        {
            "host": "mymachine.example.com",
            "app": "evntslog",
            "msgid": "ID47",
            "level": "NOTICE",
            "message": "An application event log entry",
            "timestamp": datetime(2003, 10, 11, 22, 14, 15, 3000),
        },
    ),
    (
        "logfmt",
        ['ts=2025-07-21T10:00:00Z level=warn msg="disk almost full" mount=/var used_pct=91 host="db 1"'],
        {
            "level": "WARN",
            "message": "disk almost full",
            "mount": "/var",
            "used_pct": "91",
            "host": "db 1",
            "timestamp": datetime(2025, 7, 21, 10),
        },
    ),
    (
        "plain",
        ["2025-07-21T10:00:00Z INFO user logged in", "2025-07-21 10:00:01.250 WARN slow query: 2.5s"],
        {"level": "INFO", "message": "user logged in", "timestamp": datetime(2025, 7, 21, 10)},
    ),
    (
        "plain_bracket",
        ["[2025-07-21 10:00:00] ERROR payment declined", "[2025-07-21 10:00:01] INFO: retrying"],
        {"level": "ERROR", "message": "payment declined"},
    ),
    (
        "log4j",
        ["2015-07-29 17:41:44,747 INFO [main] com.example.App - started in 2.1s"],
        {
            "level": "INFO",
            "thread": "main",
            "logger": "com.example.App",
            "message": "started in 2.1s",
            "timestamp": datetime(2015, 7, 29, 17, 41, 44, 747000),
        },
    ),
    (
        "spark",
        ["17/06/09 20:10:40 INFO spark.SecurityManager: Changing view acls to: yarn,curi"],
        {"component": "spark.SecurityManager", "timestamp": datetime(2017, 6, 9, 20, 10, 40)},
    ),
    (
        "hdfs",
        ["081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660"],
        {"pid": 148, "component": "dfs.DataNode$PacketResponder", "timestamp": datetime(2008, 11, 9, 20, 36, 15)},
    ),
    (
        "alb",
        [ALB_LINE],
        {
            "type": "https",
            "elb_status_code": 200,
            "target_processing_time": 0.048,
            "method": "GET",
            "trace_id": "Root=1-58337281-1d84f3d73c47ec4e58577259",
            "level": "INFO",
            "conn_trace_id": "TID_1234abcd",
            "timestamp": datetime(2018, 7, 2, 22, 23, 0, 186641),
        },
    ),
    (
        "vpc_flow",
        [
            "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
            "2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK",
        ],
        {
            "account_id": "123456789010",
            "srcaddr": "172.31.16.139",
            "dstport": 22,
            "action": "ACCEPT",
            "timestamp": datetime(2014, 12, 14, 4, 6, 50),
        },
    ),
    (
        "vpc_flow",
        [
            "version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport dstport "
            "pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags log-status",
            "3 vpc-12345678 subnet-012345678 i-01234567890123456 eni-1235b8ca123456789 123456789010 IPv4 "
            "52.213.180.42 10.0.0.62 43416 5001 52.213.180.42 10.0.0.62 6 568 8 1566848875 1566848933 ACCEPT 2 OK",
        ],
        {"vpc_id": "vpc-12345678", "pkt_srcaddr": "52.213.180.42", "tcp_flags": 2, "source_line": 2},
    ),
    (
        "cloudwatch_export",
        [
            '2025-07-21T10:00:00.000Z {"level": "error", "message": "timeout", "request": {"id": "r-1"}}',
            "2025-07-21T10:00:01.000Z plain text event",
        ],
        {"level": "ERROR", "message": "timeout", "request_id": "r-1", "timestamp": datetime(2025, 7, 21, 10)},
    ),
    (
        "lambda",
        [
            "START RequestId: 8f507cfc-12d4-4e36-9b4c-e2a9b8d6f5a1 Version: $LATEST",
            "2025-07-21T10:00:00.456Z\t8f507cfc-12d4-4e36-9b4c-e2a9b8d6f5a1\tINFO\tcharged",
            "REPORT RequestId: 8f507cfc-12d4-4e36-9b4c-e2a9b8d6f5a1\tDuration: 9.14 ms\tBilled Duration: 10 ms\t"
            "Memory Size: 128 MB\tMax Memory Used: 70 MB",
        ],
        {"level": "INFO", "lambda_event": "START", "request_id": "8f507cfc-12d4-4e36-9b4c-e2a9b8d6f5a1"},
    ),
]


@pytest.mark.parametrize(("fmt", "lines", "expected"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_builtin_format(process_bytes, lake, fmt: str, lines: list[str], expected: dict) -> None:
    summary = process_bytes(("\n".join(lines) + "\n").encode())
    assert summary.format == fmt
    header = 1 if fmt == "vpc_flow" and lines[0].startswith("version") else 0
    assert (summary.processed, summary.errors, summary.blank) == (len(lines) - header, 0, header), summary
    first = query(lake, "SELECT * FROM processed_logs ORDER BY source_line LIMIT 1")[0]
    for key, value in expected.items():
        assert first[key] == value, (key, first[key])
    assert first["source_format"] == fmt


def test_every_builtin_format_has_a_test_and_docs() -> None:
    from loglake.formats.builtin import BUILTIN

    tested = {c[0] for c in CASES} | {"jsonl", "json_document"}
    assert {f.name for f in BUILTIN} == tested
    assert all(f.description and f.example for f in BUILTIN)


def test_json_document_array_and_cloudtrail(process_bytes, lake) -> None:
    doc = b"""[
  {"timestamp": "2025-07-21T10:00:00Z", "level": "info", "message": "one"},
  {"timestamp": "2025-07-21T10:00:01Z",
   "level": "warn",
   "message": "two, with a ] and a \\" inside"},
  [1, 2],
  {"level": "info", "message": "four"}
]
"""
    summary = process_bytes(doc, name="doc.json")
    assert summary.format == "json_document"
    assert (summary.lines, summary.processed, summary.errors) == (8, 3, 1)
    assert summary.lines == summary.processed + summary.errors + summary.blank + summary.joined
    got = query(lake, "SELECT source_line, message FROM processed_logs ORDER BY source_line")
    assert got == [
        {"source_line": 2, "message": "one"},
        {"source_line": 3, "message": 'two, with a ] and a " inside'},
        {"source_line": 7, "message": "four"},
    ]
    assert query(lake, "SELECT source_line, error_code FROM errors_logs") == [
        {"source_line": 6, "error_code": "not_an_object"}
    ]


def test_cloudtrail_records(process_bytes, lake) -> None:
    doc = (
        b'{"Records": [{"eventVersion": "1.08", "eventTime": "2025-07-21T10:00:00Z", "eventName": "PutObject", '
        b'"level": "INFO", "message": "PutObject", "userIdentity": {"type": "IAMUser", "userName": "alice"}}, '
        b'{"eventTime": "2025-07-21T10:00:01Z", "eventName": "GetObject", "level": "INFO", "message": "GetObject"}]}'
    )
    summary = process_bytes(doc, name="trail.json")
    assert (summary.format, summary.processed) == ("json_document", 2)
    # One physical line holding two records: counted once as a line, the second record as sharing it.
    assert (summary.lines, summary.shared, summary.joined) == (1, 1, 0)
    got = query(lake, "SELECT eventname, useridentity_username FROM processed_logs ORDER BY eventname")
    assert got == [
        {"eventname": "GetObject", "useridentity_username": None},
        {"eventname": "PutObject", "useridentity_username": "alice"},
    ]


def test_pretty_printed_single_object(process_bytes, lake) -> None:
    summary = process_bytes(b'{\n  "level": "info",\n  "message": "hi"\n}\n', name="one.json")
    assert (summary.format, summary.processed, summary.lines) == ("json_document", 1, 4)
    assert summary.joined == 3


def test_multiline_stack_traces_join_the_record_that_started_them(process_bytes, lake) -> None:
    log = (
        "2025-07-21 10:00:00,001 INFO [main] com.example.App - starting\n"
        "2025-07-21 10:00:01,002 ERROR [main] com.example.App - request failed\n"
        "java.lang.IllegalStateException: boom\n"
        "\tat com.example.App.handle(App.java:42)\n"
        "\n"
        "Caused by: java.io.IOException: socket closed\n"
        "\t... 3 more\n"
        "2025-07-21 10:00:02,003 INFO [main] com.example.App - recovered\n"
    )
    summary = process_bytes(log.encode())
    assert summary.format == "log4j"
    assert (summary.lines, summary.processed, summary.errors, summary.joined, summary.blank) == (8, 3, 0, 5, 0)
    rows = query(lake, "SELECT source_line, message FROM processed_logs ORDER BY source_line")
    assert [r["source_line"] for r in rows] == [1, 2, 8]
    assert rows[1]["message"] == (
        "request failed\njava.lang.IllegalStateException: boom\n\tat com.example.App.handle(App.java:42)\n\n"
        "Caused by: java.io.IOException: socket closed\n\t... 3 more"
    )


def test_python_traceback_in_plain_format(process_bytes, lake) -> None:
    log = (
        "2025-07-21T10:00:00Z ERROR unhandled exception\n"
        "Traceback (most recent call last):\n"
        '  File "app.py", line 3, in <module>\n'
        "ZeroDivisionError: division by zero\n"
        "2025-07-21T10:00:01Z INFO next\n"
    )
    summary = process_bytes(log.encode())
    assert (summary.format, summary.processed, summary.joined) == ("plain", 2, 3)
    (row,) = query(lake, "SELECT message FROM processed_logs WHERE level = 'ERROR'")
    assert row["message"].endswith("ZeroDivisionError: division by zero")


def test_continuation_without_a_record_above_is_an_error(process_bytes, lake) -> None:
    summary = process_bytes(
        b"\tat orphan.Frame(X.java:1)\n2025-07-21T10:00:00Z INFO ok\n2025-07-21T10:00:01Z INFO ok\n"
    )
    assert (summary.format, summary.processed, summary.errors) == ("plain", 2, 1)
    assert summary.errors_by_reason == {"unparsed_line": 1}


def test_syslog_5424_nil_values_and_severity(process_bytes, lake) -> None:
    process_bytes(b"<11>1 2025-07-21T10:00:00+02:00 - app 1234 - - disk failure\n")
    (row,) = query(lake, "SELECT * FROM processed_logs")
    assert row["level"] == "ERROR" and row["procid"] == "1234" and row["timestamp"] == datetime(2025, 7, 21, 8)


CLOUDTRAIL = {
    "Records": [
        {
            "eventVersion": "1.08",
            "userIdentity": {"type": "IAMUser", "principalId": "AIDAJ45Q7YFFAREXAMPLE", "userName": "Alice"},
            "eventTime": "2025-07-21T10:00:00Z",
            "eventSource": "s3.amazonaws.com",
            "eventName": "PutObject",
            "awsRegion": "us-east-1",
            "sourceIPAddress": "203.0.113.10",
            "requestParameters": {"bucketName": "amzn-s3-demo-bucket", "key": "a.log"},
            "eventID": "d2a4a2fc-8f1e-4d5e-9bfc-0a1c2b3d4e5f",
            "eventType": "AwsApiCall",
        },
        {
            "eventVersion": "1.08",
            "userIdentity": {"type": "IAMUser", "userName": "Bob"},
            "eventTime": "2025-07-21T10:00:05Z",
            "eventSource": "iam.amazonaws.com",
            "eventName": "CreateUser",
            "awsRegion": "us-east-1",
            "errorCode": "AccessDenied",
            "errorMessage": "User: arn:aws:iam::111122223333:user/Bob is not authorized to perform: iam:CreateUser",
            "eventType": "AwsApiCall",
        },
        {
            "eventVersion": "1.08",
            "eventTime": "2025-07-21T10:00:09Z",
            "eventSource": "ec2.amazonaws.com",
            "eventName": "RunInstances",
            "awsRegion": "us-east-1",
            "errorCode": "Client.InstanceLimitExceeded",
            "eventType": "AwsApiCall",
        },
    ]
}


@pytest.mark.parametrize("name", ["111122223333_CloudTrail_us-east-1_20250721T1000Z_abc.json", "trail.json.gz"])
def test_cloudtrail_events_land_with_time_level_and_message(process_bytes, lake, name: str) -> None:
    import gzip

    import orjson

    data = orjson.dumps(CLOUDTRAIL)
    summary = process_bytes(gzip.compress(data) if name.endswith(".gz") else data, name=name)
    assert (summary.format, summary.processed, summary.errors) == ("json_document", 3, 0)
    got = query(lake, "SELECT timestamp, level, message, errorcode FROM processed_logs ORDER BY timestamp")
    assert [(r["timestamp"].isoformat(), r["level"], r["message"], r["errorcode"]) for r in got] == [
        ("2025-07-21T10:00:00", "INFO", "s3.amazonaws.com:PutObject", None),
        ("2025-07-21T10:00:05", "ERROR", "iam.amazonaws.com:CreateUser", "AccessDenied"),
        ("2025-07-21T10:00:09", "WARN", "ec2.amazonaws.com:RunInstances", "Client.InstanceLimitExceeded"),
    ]


def test_hadoop_log4j_names_the_logger_and_keeps_it_out_of_the_message() -> None:
    from loglake.formats.builtin import LOG4J

    line = b"2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster"
    record = LOG4J.parse_line(line)
    assert (record["logger"], record["thread"], record["message"]) == (
        "org.apache.hadoop.mapreduce.v2.app.MRAppMaster",
        "main",
        "Created MRAppMaster",
    )
    plain = LOG4J.parse_line(b"2025-07-21 10:00:00,000 INFO [main] Created: a word and a colon are not a logger")
    assert "logger" not in plain and plain["message"].startswith("Created:")


def test_macos_syslog_tags_with_spaces_and_responsible_process() -> None:
    from loglake.formats.builtin import SYSLOG_3164

    word = SYSLOG_3164.parse_line(b"Jul  1 09:01:05 calvisitor-10-105-160-95 Microsoft Word[14463]: document opened")
    assert (word["app"], word["pid"], word["message"]) == ("Microsoft Word", 14463, "document opened")
    sandbox = SYSLOG_3164.parse_line(b"Jul  1 09:01:05 host sandboxd[129] ([31211]): deny file-read-data")
    assert (sandbox["app"], sandbox["pid"], sandbox["responsible_pid"], sandbox["message"]) == (
        "sandboxd",
        129,
        31211,
        "deny file-read-data",
    )
    untagged = SYSLOG_3164.parse_line(b"Jun 14 15:16:01 combo connection from 1.2.3.4 port 22: closed")
    assert "app" not in untagged and untagged["message"] == "connection from 1.2.3.4 port 22: closed"


def test_user_format_without_timestamp_format_reads_common_layouts_and_year_less_ones(process_bytes, lake_dir) -> None:
    from loglake.config import CustomFormat

    spec = CustomFormat(name="svc", regex=r"^(?P<timestamp>\w{3} +\d+ [\d:]+) (?P<svc>\w+): (?P<message>.*)$")
    grok = CustomFormat(name="gk", grok="%{SYSLOGTIMESTAMP:timestamp} %{WORD:svc}> %{GREEDYDATA:message}")
    lake = Lake.open(Settings(lake=str(lake_dir), formats=FormatsConfig(custom=(spec, grok))))
    summary = process_bytes(b"Mar 17 10:00:01 billing: charged\nMar 17 10:00:02 billing: refunded\n", target=lake)
    assert (summary.format, summary.processed) == ("svc", 2)
    summary = process_bytes(b"Mar 17 10:00:01 billing> charged\n", name="g.log", target=lake)
    assert (summary.format, summary.processed) == ("gk", 1)
    (row,) = query(lake, "SELECT timestamp, svc FROM processed_logs WHERE source_uri LIKE '%g.log'")
    now = datetime.now()
    assert row["svc"] == "billing" and row["timestamp"].year in (now.year, now.year - 1)


def test_year_less_timestamp_format_rolls_back_across_new_year() -> None:
    from loglake.formats.timestamps import YearLess

    january = YearLess("%b %d %H:%M:%S", now=lambda: datetime(2027, 1, 2, 8, 0))
    assert january("Dec 31 23:59:59") == datetime(2026, 12, 31, 23, 59, 59)
    assert january("Jan 02 07:00:00") == datetime(2027, 1, 2, 7, 0)
