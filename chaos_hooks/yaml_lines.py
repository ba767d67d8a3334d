"""YAML loading that remembers the line of every field, so errors can name file and line."""
import yaml


class Located:
    """A loaded document plus a map from field path (tuple) to its 1-based line."""

    def __init__(self, data, lines: dict):
        self.data = data
        self.lines = lines

    def line(self, path: tuple) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())


def _build(node, path, lines):
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out = {}
        for key_node, value_node in node.value:
            key = key_node.value
            out[key] = _build(value_node, path + (key,), lines)
            lines[path + (key,)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, path + (i,), lines) for i, item in enumerate(node.value)]
    return yaml.safe_load(yaml.serialize(node))


def load_located(text: str) -> Located:
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    lines: dict = {}
    data = _build(node, (), lines) if node is not None else None
    return Located(data, lines)
