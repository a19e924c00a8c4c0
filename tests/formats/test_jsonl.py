from loglake.formats import ParseFailure
from loglake.formats.jsonl import JsonLines


def parse(line: bytes):
    return JsonLines().parse_line(line)


def test_object_is_a_record() -> None:
    assert parse(b'{"a": {"b": 1}}') == {"a": {"b": 1}}


def test_each_failure_names_its_cause() -> None:
    cases = {
        b'{"a": 1': "invalid_json",
        b"[1, 2]": "not_an_object",
        b'"text"': "not_an_object",
        b"null": "not_an_object",
        b'{"a": "caf\xe9"}': "invalid_utf8",
        b'{"a": "x\x00"}': "nul_byte",
        b'{"a": 1}\x00': "nul_byte",
    }
    for line, code in cases.items():
        got = parse(line)
        assert isinstance(got, ParseFailure) and got.code == code, (line, got)
        assert got.message


def test_invalid_utf8_message_gives_the_offset() -> None:
    got = parse(b'{"msg": "\xff"}')
    assert isinstance(got, ParseFailure) and "offset 9" in got.message
