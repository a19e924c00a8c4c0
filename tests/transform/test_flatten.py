from hypothesis import given
from hypothesis import strategies as st

from loglake.transform import Flattener, resolve_names, safe_name


def test_nested_objects_become_columns_and_arrays_json_text() -> None:
    flat = Flattener().flatten({"http": {"status": 200, "req": {"path": "/x"}}, "tags": ["a", 1], "empty": {}})
    assert flat == {"http_status": 200, "http_req_path": "/x", "tags": '["a",1]', "empty": "{}"}


def test_separator_and_depth_are_configurable() -> None:
    flat = Flattener(separator="__", max_depth=2).flatten({"a": {"b": {"c": {"d": 1}}}})
    assert flat == {"a__b": '{"c":{"d":1}}'}


def test_names_are_athena_safe() -> None:
    assert safe_name("HTTP Status") == "http_status"
    assert safe_name("a+b%c") == "a_b_c"
    assert safe_name("1st") == "col_1st"
    assert safe_name("naïve") == "na_ve"
    assert safe_name("") == "col__"


def test_case_colliding_keys_resolve_deterministically_whatever_the_order() -> None:
    a = Flattener().flatten({"level": "INFO", "Level": "x", "LEVEL": "y"})
    b = Flattener().flatten({"LEVEL": "y", "Level": "x", "level": "INFO"})
    assert a == b == {"level": "INFO", "level_2": "y", "level_3": "x"}


def test_reserved_lineage_names_are_never_taken_by_data() -> None:
    flat = Flattener().flatten({"source_line": 9, "dt": "x", "processed_timestamp": 1})
    assert flat == {"source_line_2": 9, "dt_2": "x", "processed_timestamp_2": 1}


def test_flattened_name_colliding_with_a_top_level_key_loses_nothing() -> None:
    a = Flattener().flatten({"http_status": 1, "http": {"status": 2}})
    b = Flattener().flatten({"http": {"status": 2}, "http_status": 1})
    assert a == b == {"http_status": 1, "http_status_2": 2}


paths_strategy = st.lists(st.lists(st.text(max_size=6), min_size=1, max_size=3).map(tuple), max_size=12, unique=True)


@given(paths_strategy)
def test_resolved_names_are_unique_safe_and_order_independent(paths: list[tuple[str, ...]]) -> None:
    names = resolve_names(tuple(paths))
    assert len(set(names)) == len(names)
    assert all(n == safe_name(n) for n in names)
    mapping = dict(zip(paths, names, strict=True))
    reversed_mapping = dict(zip(reversed(paths), resolve_names(tuple(reversed(paths))), strict=True))
    assert mapping == reversed_mapping


@given(
    st.dictionaries(
        st.text(max_size=6),
        st.one_of(st.integers(), st.dictionaries(st.text(max_size=4), st.integers(), max_size=3)),
        max_size=8,
    )
)
def test_flatten_keeps_every_leaf_value(record: dict) -> None:
    leaves = [v for v in record.values() if not isinstance(v, dict)]
    leaves += [x for v in record.values() if isinstance(v, dict) and v for x in v.values()]
    flat = Flattener().flatten(record)
    assert sorted(v for v in flat.values() if isinstance(v, int)) == sorted(leaves)
