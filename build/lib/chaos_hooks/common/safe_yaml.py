"""YAML (and JSON) loading for files users write: every field keeps its line, and hostile or broken input
becomes one located ScenarioError instead of a hang, a crash or a traceback.

Refused, each naming file and line: non-UTF-8 bytes, files over MAX_BYTES, more than MAX_ALIASES aliases or
MAX_NODES nodes once aliases are expanded (alias bombs), nesting deeper than MAX_DEPTH, keys that are not plain
strings (complex `? [a, b]` keys, numbers, booleans, null), duplicate keys, unknown tags, several documents.
"""
import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from chaos_hooks.common.errors import ScenarioError

MAX_BYTES = 1_000_000
MAX_ALIASES = 32
MAX_NODES = 100_000
MAX_DEPTH = 48
STR_TAG = "tag:yaml.org,2002:str"


class Located:
    """A loaded document plus a map from field path (tuple) to its 1-based line."""

    def __init__(self, data, lines: dict, source: str):
        self.data = data
        self.lines = lines
        self.source = source

    def line(self, path: tuple) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())


class _Refused(Exception):
    def __init__(self, line: int | None, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


class _GuardedLoader(Reader, Scanner, Parser, Composer, SafeConstructor, Resolver):
    """PyYAML's SafeLoader with an alias budget and a depth limit enforced while composing."""

    def __init__(self, stream):
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self.aliases = 0
        self.depth = 0

    def compose_node(self, parent, index):
        if self.check_event(AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise _Refused(self.peek_event().start_mark.line + 1,
                               f"more than {MAX_ALIASES} YAML aliases (*name): refused")
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _Refused(self.peek_event().start_mark.line + 1, f"nested deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _Builder:
    """Turns composed nodes into plain data, recording lines; counts nodes so aliases cannot multiply."""

    def __init__(self, loader: _GuardedLoader):
        self.loader = loader
        self.lines: dict = {}
        self.nodes = 0

    def build(self, node, path: tuple):
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _Refused(node.start_mark.line + 1, f"more than {MAX_NODES} values once aliases are expanded")
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, MappingNode):
            out = {}
            for key_node, value_node in node.value:
                key = self.key(key_node)
                if key in out:
                    raise _Refused(key_node.start_mark.line + 1, f"duplicate key {key!r}")
                self.lines[path + (key,)] = key_node.start_mark.line + 1
                out[key] = self.build(value_node, path + (key,))
            return out
        if isinstance(node, SequenceNode):
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        try:
            return self.loader.construct_object(node, deep=True)
        except ValueError as err:  # e.g. an integer of more digits than Python converts
            raise _Refused(node.start_mark.line + 1, f"unreadable value: {str(err)[:80]}") from None

    @staticmethod
    def key(node) -> str:
        line = node.start_mark.line + 1
        if not isinstance(node, ScalarNode):
            raise _Refused(line, "a key must be a plain string, not a list or mapping")
        if node.tag == "tag:yaml.org,2002:merge":
            raise _Refused(line, "merge keys (<<) are not supported; write the fields out")
        if node.tag != STR_TAG:
            raise _Refused(line, f"key {node.value!r} must be a string (quote it)")
        return node.value


def decode(raw: bytes, source: str) -> str:
    if len(raw) > MAX_BYTES:
        raise ScenarioError(f"{source}: file is {len(raw)} bytes, more than the {MAX_BYTES} allowed")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[:err.start].count(b"\n") + 1
        raise ScenarioError(f"{source}:{line}: not UTF-8 text (byte 0x{raw[err.start]:02x})") from None


def load_text(text: str, source: str) -> Located:
    """Parses one YAML/JSON document; raises ScenarioError naming source and line."""
    loader = None
    try:
        loader = _GuardedLoader(text)
        node = loader.get_single_node()
        if node is None:
            return Located(None, {}, source)
        builder = _Builder(loader)
        data = builder.build(node, ())
        return Located(data, builder.lines, source)
    except _Refused as err:
        raise ScenarioError(f"{source}:{err.line}: {err.message}") from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"{source}:{mark.line + 1}" if mark else source
        problem = (err.problem or err.context or "not valid YAML").strip()
        raise ScenarioError(f"{where}: not valid YAML/JSON: {problem}") from None
    except yaml.YAMLError as err:  # reader errors (control characters) carry a position, not a mark
        line = text[:getattr(err, "position", 0)].count("\n") + 1
        raise ScenarioError(f"{source}:{line}: not valid YAML/JSON: {str(err).splitlines()[0]}") from None
    except RecursionError:
        raise ScenarioError(f"{source}: nested too deeply") from None
    finally:
        if loader is not None:
            loader.dispose()


def load_file(path: str) -> Located:
    """Reads and parses a user's file; every failure is a ScenarioError naming the file."""
    import os
    if os.path.isdir(path):
        raise ScenarioError(f"{path}: is a directory, not a file")
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ScenarioError(f"{path}: file not found") from None
    except OSError as err:
        raise ScenarioError(f"{path}: cannot read: {err.strerror or err}") from None
    return load_text(decode(raw, path), path)
