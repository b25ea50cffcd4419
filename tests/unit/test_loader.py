"""The strict YAML/JSON loader: text is never silently reinterpreted."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from nmstated.errors import InvalidArgument
from nmstated.schema import loader
from nmstated.schema.loader import PlainScalar, core_value, load_text


def load(text: str) -> Any:
    value, problems = load_text(text)
    assert problems == []
    return value


def load_error(text: str) -> str:
    with pytest.raises(InvalidArgument) as info:
        _, problems = load_text(text)
        if problems:
            raise InvalidArgument("; ".join(problems))
    return info.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", None),
        ("~", None),
        ("null", None),
        ("NULL", None),
        ("true", True),
        ("False", False),
        ("0", 0),
        ("-12", -12),
        ("+7", 7),
        ("1500", 1500),
        ("1.5", 1.5),
        ("1e3", 1000.0),
        # YAML 1.1 spellings that stay text
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("Off", "Off"),
        ("y", "y"),
        ("024", "024"),
        ("0x1f", "0x1f"),
        ("0o17", "0o17"),
        ("1_000", "1_000"),
        ("12:34:56:00:00:01", "12:34:56:00:00:01"),
        ("1:30", "1:30"),
        ("2001:db8::1", "2001:db8::1"),
        (".inf", ".inf"),
        ("1" * 5000, "1" * 5000),  # too long for int(); kept as text
    ],
)
def test_core_value(text: str, expected: object) -> None:
    value = core_value(text)
    assert value == expected
    assert type(value) is type(expected)


def test_plain_scalars_remember_text_and_line() -> None:
    value = load("a: 1\nb:\n  - 024\n  - 'quoted'\n")
    assert isinstance(value["a"], PlainScalar)
    assert value["a"] == "1"
    assert value["a"].core == 1
    assert value["a"].line == 1
    item = value["b"][0]
    assert isinstance(item, PlainScalar)
    assert (str(item), item.core, item.line) == ("024", "024", 3)
    quoted = value["b"][1]
    assert type(quoted) is str
    assert quoted == "quoted"


def test_explicit_tags() -> None:
    value = load("a: !!str 12\nb: !!int 12\nc: !!bool true\nd: !!null ''\ne: !!float 2\nf: ! 7\n")
    assert value == {"a": "12", "b": 12, "c": True, "d": None, "e": 2.0, "f": "7"}
    assert type(value["a"]) is str
    assert type(value["f"]) is str


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\nb: 2\na: 3\n", "line 3: duplicate key 'a'"),
        ("x:\n  y: 1\n  'y': 2\n", "line 3: duplicate key 'y'"),
        ("a:\n\tb: 1\n", "line 2: tab in indentation"),
        ("a:\n\u00a0 b: 1\n", "line 2: no-break space (U+00A0) in indentation"),
        ("a: b\u00a0c\n", "line 1: no-break space (U+00A0) in 'b\\xa0c' (use a normal space)"),
        ("a: *x\nb: &x 1\n", "line 1: alias *x does not follow a complete &x"),
        ("a: &x [1, *x]\n", "line 1: alias *x does not follow a complete &x"),
        (
            "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
            + "".join(
                f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n"
                for i in range(6)
            ),
            "the document holds more than 50000 values (aliases expanded)",
        ),
        ("a: !!binary aGk=\n", "line 1: tag 'tag:yaml.org,2002:binary' is not supported"),
        ("a: !!set {x}\n", "line 1: tag 'tag:yaml.org,2002:set' is not supported"),
        ("a: !!int 024\n", "line 1: '024' tagged 'tag:yaml.org,2002:int' is not an integer"),
        ("a: !!bool yes\n", "line 1: 'yes' tagged 'tag:yaml.org,2002:bool' is not true or false"),
        ("a: !custom x\n", "line 1: tag '!custom' is not supported"),
        ("a: 1\n---\nb: 2\n", "line 2: a second YAML document (send exactly one)"),
        ("? [a]\n: b\n", "line 1: a key must be a single word, not a list or mapping"),
        ("a" + ":\n" + "".join(" " * i + "b:\n" for i in range(1, 40)), "nested too deeply"),
        ("[" * 50 + "]" * 50, "line 1: the document is nested too deeply"),
        ("", "top level: the document is empty"),
        ("# only a comment\n", "top level: the document is empty"),
        ("---\n", "top level: the document is empty"),
        ("~\n", "top level: the document is empty"),
        ("x\x00", "line 1: character '\\x00' is not allowed in YAML text"),
        ("a: '\ud800'\n", "line 1: character '\\ud800' is not valid text"),
        ("a: [1,\n", "line 2: invalid YAML:"),
        ('{"a": 1,\n "a": 2}', "line 2: duplicate key 'a'"),
        ('{"a": {"b": 1, "b": 1}}', "line 1: duplicate key 'b'"),
        ('{"a": 1,}', "line 1: invalid JSON: Expecting property name enclosed in double quotes"),
        ("{a: 1}", "(text starting with '{' is read as JSON)"),
        ('{"a": NaN}', "invalid JSON: NaN is not allowed"),
        ('{"a": 1} x', "line 1: invalid JSON: Extra data"),
        ('{"a":' * 40 + "1" + "}" * 40, "the document is nested too deeply"),
        ('{"a": ' + "[" * 5000 + "]" * 5000 + "}", "nested too deeply"),
        ('{"a": ' + "9" * 5000 + "}", "invalid JSON"),
    ],
)
def test_rejected_text(text: str, message: str) -> None:
    error = load_error(text)
    assert message in error
    assert "\n" not in error
    assert "Traceback" not in error


def test_aliases_repeat_the_anchored_value() -> None:
    value = load("a: &x {b: [1, yes]}\nc: *x\nd: &y 2\ne: *y\n")
    assert value["c"] == value["a"] == {"b": ["1", "yes"]}
    assert value["e"] == "2"


def test_several_problems_are_all_reported() -> None:
    error = load_error("a: 1\na: 2\nb: !!binary aGk=\nb: 3\n")
    assert error.split("; ") == [
        "line 2: duplicate key 'a'",
        "line 3: tag 'tag:yaml.org,2002:binary' is not supported",
        "line 4: duplicate key 'b'",
    ]


def test_every_indentation_problem_is_reported() -> None:
    error = load_error("a:\n\tb: 1\nc:\n\t\td: 2\n")
    assert error == "line 2: tab in indentation; line 4: tab in indentation"


def test_tab_after_indentation_is_fine() -> None:
    assert load("a:\t1\n") == {"a": "1"}


def test_json_is_typed_and_keeps_order() -> None:
    value = load('  {"b": 1, "a": [true, null, "x", 1.5]}')
    assert value == {"b": 1, "a": [True, None, "x", 1.5]}
    assert list(value) == ["b", "a"]


def test_byte_order_mark_is_ignored() -> None:
    assert load("\ufeffa: b\n") == {"a": "b"}
    assert load('\ufeff{"a": "b"}') == {"a": "b"}


def test_flow_yaml_that_is_not_json_still_needs_brackets_first() -> None:
    assert load("a: {b: 1}\n") == {"a": {"b": "1"}}


def test_non_text_is_rejected() -> None:
    with pytest.raises(InvalidArgument, match="expected text"):
        load_text(b"a: 1")  # type: ignore[arg-type]


def test_huge_text_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "MAX_TEXT", 10)
    with pytest.raises(InvalidArgument, match="larger than 10 characters"):
        load_text("a: 12345678901\n")


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\nb: [x, 'y', 024]\nc: {d: yes}\n",
        "a: 1\na: 2\n",
        "a:\n  - &x b\n",
        "a: [1,\n",
        "- 1\n- 2\n",
        "k: !!str 5\n",
    ],
)
def test_pure_python_loader_agrees_with_libyaml(text: str) -> None:
    def run(loader_class: Any) -> Any:
        try:
            value, problems = loader._load_yaml(text, loader_class)
        except InvalidArgument as exc:
            return ("error", exc.message.split(":")[0])
        return (value, problems)

    assert run(loader.StrictLoader) == run(loader._FAST_LOADER)


def test_loader_is_a_safe_loader_without_implicit_resolvers() -> None:
    assert issubclass(loader.StrictLoader, yaml.SafeLoader)
    assert loader.StrictLoader.yaml_implicit_resolvers == {}
    # PyYAML's own machinery on this class resolves nothing implicitly either.
    assert yaml.load("a: 024", Loader=loader.StrictLoader) == {"a": "024"}
