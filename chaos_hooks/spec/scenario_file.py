"""Writing a scenario file from another one with a different schedule: the faults as plain timed entries (a
nemesis's draw included, so no nemesis is left), the load's users, spawn rate and run time replaced; probe
expectations that name a fault no longer there are dropped. Used by `shrink` for each candidate and shrunk.yaml."""
import yaml

from chaos_hooks.common.safe_yaml import load_file


def fault_entry(f) -> dict:
    """A FaultSpec as a scenario's fault entry (durations in seconds)."""
    entry = {"name": f.name, "action": f.action, "target": f.target, "at": f"{f.at:g}s"}
    if f.heal_after is not None:
        entry["heal_after"] = f"{f.heal_after:g}s"
    entry.update(f.params)
    return entry


def with_schedule(data: dict, faults, users: int, spawn_rate: float, run_time: float, name: str | None = None) -> dict:
    out = dict(data)
    if name:
        out["name"] = name
    out.pop("nemesis", None)
    out["faults"] = [fault_entry(f) for f in sorted(faults, key=lambda f: f.at)]
    load = dict(out.get("load") or {})
    load.update(users=int(users), spawn_rate=float(spawn_rate) if spawn_rate % 1 else int(spawn_rate),
                run_time=f"{run_time:g}s")
    out["load"] = load
    kept = {f.name.split("#")[0] for f in faults}
    probes = []
    for probe in out.get("probes") or []:
        if isinstance(probe, dict) and isinstance(probe.get("expect"), list):
            expect = [e for e in probe["expect"] if not isinstance(e, dict) or e.get("fault") in (None, *kept)]
            if not expect:
                continue
            probe = dict(probe, expect=expect)
        probes.append(probe)
    if "probes" in out:
        out["probes"] = probes
        names = {p.get("name") for p in probes if isinstance(p, dict)}
        if isinstance(out.get("guards"), list):  # a guard on a dropped probe goes with it
            out["guards"] = [g for g in out["guards"] if not isinstance(g, dict) or g.get("probe") in (None, *names)]
    return out


def raw(path: str) -> dict:
    return load_file(path).data


def write(path: str, data: dict, header: str = "") -> None:
    with open(path, "w") as f:
        if header:
            f.write("".join(f"# {line}\n" for line in header.splitlines()))
        yaml.safe_dump(data, f, sort_keys=False, allow_unicode=True, width=120)
