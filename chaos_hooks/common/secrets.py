"""Secrets never reach a file or a screen: every string the harness writes or prints passes mask(), which
replaces each known secret with ***. Known secrets come from the target profile (install()):

    passwords in URLs (datastores, host, toxiproxy_url — and any user:password@ in any URL, known or not)
    the env values of components            (as free text only when 8+ characters and not a plain URL)
    argv of commands marked `secret: true`  (all but the program)
    the profile's `secrets:` list           (literal strings)

install() also masks this process's stdout, stderr and every logging handler, so Locust's own lines are
covered too. A heal that needs a real value reads it from a 0600 file (control/journal.py), never from here.
"""
import logging
import re
import sys
from urllib.parse import urlsplit

MASK = "***"
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@]*:)(?P<pw>[^@\s/]+)(?P<tail>@)")
_SECRET_KEYS = {"env", "password", "secret_argv"}
_known: set[str] = set()


def add(values) -> None:
    for value in values:
        if isinstance(value, str) and len(value) >= 3:
            _known.add(value)


def known() -> set[str]:
    return set(_known)


def from_profile(profile) -> list[str]:
    """The secrets a target profile holds (see the module docstring)."""
    raw = getattr(profile, "raw", None) or {}
    found = [str(s) for s in raw.get("secrets") or [] if s is not None]
    urls = list(profile.datastores.values()) + [profile.host, profile.control_host, profile.toxiproxy_url]
    for url in urls:
        if url:
            password = urlsplit(url).password
            if password:
                found.append(password)
    for comp in profile.components.values():
        found += [v for v in (getattr(comp, "env", None) or {}).values() if isinstance(v, str) and len(v) >= 8 and not _plain_url(v)]
    for name, command in (raw.get("commands") or {}).items():
        if isinstance(command, dict) and command.get("secret") is True:
            for key in ("run", "heal"):
                found += [str(a) for a in (command.get(key) or [])[1:]]
    return found


def _plain_url(value: str) -> bool:
    """A URL with no password (a service address, say) is no secret; its password would be masked anyway."""
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc) and parts.password is None


def mask_text(text: str) -> str:
    if not isinstance(text, str):
        return text
    if "://" in text:
        text = _URL_PASSWORD.sub(lambda m: m["head"] + MASK + m["tail"], text)
    for secret in sorted(_known, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def mask(value, key: str | None = None):
    """A copy of value (str, dict, list) with every secret masked; the values under an `env` or `password`
    key are masked whatever they are."""
    if key in _SECRET_KEYS and value not in (None, "", {}, []):
        if isinstance(value, dict):
            return {k: MASK for k in value}
        if isinstance(value, list):
            return [MASK for _ in value]
        return MASK
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: mask(v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask(v) for v in value]
    return value


class _MaskingStream:
    """stdout/stderr with every write masked; everything else passes through."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        return self._stream.write(mask_text(text))

    def __getattr__(self, name):
        return getattr(self._stream, name)


class _MaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string is the logger's problem, not ours
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


_FILTER = _MaskingFilter()


def install(profile=None) -> None:
    """Learns the profile's secrets and masks this process's output: stdout, stderr, every log handler."""
    if profile is not None:
        add(from_profile(profile))
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, _MaskingStream):
            setattr(sys, name, _MaskingStream(stream))
    loggers = [logging.getLogger()] + [logging.getLogger(n) for n in list(logging.root.manager.loggerDict)]
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)
