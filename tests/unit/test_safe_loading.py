"""Hostile and broken input files: every one becomes a located one-line error, fast, never a crash."""
import time

import pytest

from chaos_hooks.common.durations import parse_duration
from chaos_hooks.common.errors import ScenarioError
from chaos_hooks.common.safe_yaml import decode, load_text

ALIAS_BOMB = """\
a: &a ["x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
"""


@pytest.mark.parametrize("text, line, needle", [
    (ALIAS_BOMB, 5, "aliases"),
    ("a: " + "[" * 1000 + "]" * 1000 + "\n", 1, "nested deeper"),
    ("name: x\n? [a, b]\n: c\n", 2, "a key must be a plain string"),
    ("name: x\n1: y\n", 2, "key '1' must be a string"),
    ("name: x\ntrue: y\n", 2, "key 'true' must be a string"),
    ("name: x\nname: y\n", 2, "duplicate key 'name'"),
    ("a: 1\n---\nb: 2\n", 2, "not valid YAML"),
    ("a: !!python/object:os.system x\n", 1, "not valid YAML"),
    ("a: [1, 2\nb: 3\n", 2, "not valid YAML"),
    ("a: 1\nb: \x07\n", 2, "not valid YAML"),
    ("base: &b {x: 1}\nc:\n  <<: *b\n", 3, "merge keys"),
    ("n: " + "9" * 5000 + "\n", 1, "unreadable value"),
])
def test_refused_with_file_and_line(text, line, needle):
    started = time.monotonic()
    with pytest.raises(ScenarioError) as err:
        load_text(text, "f.yaml")
    assert time.monotonic() - started < 2
    message = str(err.value)
    assert message.startswith(f"f.yaml:{line}:"), message
    assert needle in message and "\n" not in message


def test_non_utf8_names_the_line():
    with pytest.raises(ScenarioError, match=r"^f.yaml:3: not UTF-8 text \(byte 0xff\)$"):
        decode(b"a: 1\nb: 2\nc: \xff\xfe\n", "f.yaml")


def test_lines_are_kept_for_every_field():
    doc = load_text("a:\n  b: [1, 2]\n  c:\n    - {d: 5}\n", "f.yaml")
    assert doc.data == {"a": {"b": [1, 2], "c": [{"d": 5}]}}
    assert doc.line(("a", "c", 0, "d")) == 4 and doc.line(("a", "b", 1)) == 2 and doc.line(("a", "zz")) == 1


@pytest.mark.parametrize("value", ["５s", "٣s", ".nan", float("nan"), float("inf"), "1e400", -1, 0, "0s",
                                   10 ** 400, "8 days", 700000, True, [5]])
def test_durations_are_ascii_finite_positive_and_bounded(value):
    with pytest.raises(ValueError):
        parse_duration(value)


@pytest.mark.parametrize("value, seconds", [("5s", 5), ("250ms", 0.25), ("2m", 120), ("1h", 3600), (7, 7),
                                            (" 1.5 s ", 1.5)])
def test_durations_accepted(value, seconds):
    assert parse_duration(value) == seconds
