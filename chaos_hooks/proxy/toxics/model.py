"""A toxic as the API sees it: name, kind, stream, toxicity and attributes, with Toxiproxy's defaults."""
import itertools
from dataclasses import dataclass, field

from ..errors import INVALID_STREAM, INVALID_TOXIC_TYPE, bad_body
from .registry import KINDS

UPSTREAM, DOWNSTREAM = "upstream", "downstream"

_serial = itertools.count(1)


@dataclass
class Toxic:
    name: str
    type: str
    stream: str
    toxicity: float
    attributes: dict
    serial: int = field(default_factory=lambda: next(_serial))  # a re-added name draws toxicity anew

    def to_dict(self) -> dict:
        return {"attributes": dict(self.attributes), "name": self.name, "type": self.type,
                "stream": self.stream, "toxicity": self.toxicity}

    def attr(self, key: str) -> int:
        return self.attributes.get(key, 0)

    @property
    def kind(self):
        return KINDS[self.type]


def _attributes(toxic_type: str, raw, base: dict | None = None) -> dict:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise bad_body("attributes must be an object")
    attrs = dict(base) if base else {k: 0 for k in KINDS[toxic_type].attributes}
    for key in KINDS[toxic_type].attributes:
        if key in raw:
            value = raw[key]
            if isinstance(value, bool) or not isinstance(value, int):
                raise bad_body(f"attribute {key!r} of a {toxic_type} toxic must be an integer, got {value!r}")
            if value < 0:
                raise bad_body(f"attribute {key!r} of a {toxic_type} toxic must not be negative")
            attrs[key] = value
    return attrs


def _toxicity(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad_body(f"toxicity must be a number, got {value!r}")
    return float(value)


def toxic_from_json(body) -> Toxic:
    """Create a toxic with Toxiproxy's defaults: stream downstream, toxicity 1.0, name <type>_<stream>."""
    if not isinstance(body, dict):
        raise bad_body("expected a JSON object")
    stream = body.get("stream") or DOWNSTREAM
    if stream not in (UPSTREAM, DOWNSTREAM):
        raise INVALID_STREAM
    toxic_type = body.get("type")
    name = body.get("name") or f"{toxic_type}_{stream}"
    if toxic_type not in KINDS:
        raise INVALID_TOXIC_TYPE
    toxicity = _toxicity(body["toxicity"]) if "toxicity" in body else 1.0
    return Toxic(name=str(name), type=toxic_type, stream=stream, toxicity=toxicity,
                 attributes=_attributes(toxic_type, body.get("attributes")))


def toxic_updated(toxic: Toxic, body) -> Toxic:
    """Update keeps type and stream; attributes and toxicity change. A new toxicity is drawn anew per
    connection (a new serial); new attributes keep each connection's draw."""
    if not isinstance(body, dict):
        raise bad_body("expected a JSON object")
    toxicity = _toxicity(body["toxicity"]) if "toxicity" in body else toxic.toxicity
    return Toxic(name=toxic.name, type=toxic.type, stream=toxic.stream, toxicity=toxicity,
                 attributes=_attributes(toxic.type, body.get("attributes"), toxic.attributes),
                 serial=toxic.serial if toxicity == toxic.toxicity else next(_serial))
