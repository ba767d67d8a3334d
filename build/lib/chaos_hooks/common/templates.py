"""`{name}` templates in profiles, scenarios and stack specs, filled with a run's (or a stack's) values.

A string that is exactly one placeholder takes the value itself (`quantity: "{stock}"` stays a number);
otherwise values are formatted into the text. `{{` and `}}` are literal braces. Names are letters, digits,
`_`, `-` and `.`. SQL never goes through here: queries take run values as bound parameters.
"""
import re

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z0-9_.\-]+)\}|[{}]")


class TemplateError(ValueError):
    pass


def names_in(value) -> set[str]:
    """Every placeholder name in a string, or in the strings of nested lists and mappings."""
    found: set[str] = set()
    for text in _strings(value):
        for match in _PLACEHOLDER.finditer(text):
            token = match.group(0)
            if match.group(1):
                found.add(match.group(1))
            elif token in ("{", "}"):
                raise TemplateError(f"unmatched {token!r} in {text!r} (write {token * 2} for a literal brace)")
    return found


def render(value, values: dict):
    """Fills placeholders in a string, list or mapping (keys untouched); unknown names raise TemplateError."""
    if isinstance(value, str):
        return _render_text(value, values)
    if isinstance(value, list):
        return [render(v, values) for v in value]
    if isinstance(value, dict):
        return {k: render(v, values) for k, v in value.items()}
    return value


def _render_text(text: str, values: dict):
    whole = _PLACEHOLDER.fullmatch(text)
    if whole and whole.group(1):
        return _lookup(whole.group(1), values)

    def sub(match):
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        if not match.group(1):
            raise TemplateError(f"unmatched {token!r} in {text!r} (write {token * 2} for a literal brace)")
        return str(_lookup(match.group(1), values))
    return _PLACEHOLDER.sub(sub, text)


def _lookup(name: str, values: dict):
    if name not in values:
        known = ", ".join(sorted(values)) or "none"
        raise TemplateError(f"unknown placeholder {{{name}}} (known: {known})")
    return values[name]


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
