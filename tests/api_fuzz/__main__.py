"""Command line of the API fuzzer: fuzz course_lib's public API, print and save the outcomes.

    .venv/bin/python -m tests.api_fuzz [--only MODULE_OR_NAME ...] [--jobs 2] [--json OUT]
                                       [--timeout S] [--memory GIB] [--markdown OUT] [--details]

Prints the outcome table (outcome → count), the bad outcomes per module and per callable, and
(``--details``) every bad case; ``--json`` writes every case, ``--markdown`` a report. Exits 1
when any case is a foreign error, silent, non-finite, a hang or out of memory (the CI gate once
the library is fixed), 2 when only the registry is broken (a valid call fails, a public callable
has neither an entry nor an exclusion), else 0.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
from collections import Counter, defaultdict

from . import engine, valid_calls

BAD = [o for o in engine.OUTCOMES if o in engine.BAD_OUTCOMES]


def uncovered() -> list[str]:
    """Public callables with neither a registry entry nor an exclusion."""
    public = engine.public_callables(valid_calls.PACKAGE, valid_calls.SKIPPED_PACKAGES)
    return sorted(set(public) - valid_calls.REGISTRY.covered())


def selected(entries: dict[str, engine.Entry], only: list[str] | None) -> list[engine.Entry]:
    """The entries a ``--only`` token names: a module (``course_lib.vae``, ``vae``), a callable
    (``course_lib.vae.train_vae``, ``train_vae``) or an entry (``ConvVAE.forward``)."""
    if not only:
        return list(entries.values())

    def matches(entry: engine.Entry, token: str) -> bool:
        short_module = entry.module.removeprefix("course_lib.")
        return (entry.name == token or entry.public == token or entry.module == token or short_module == token
                or entry.name.startswith(token + ".") or entry.name.startswith(token + "[")
                or entry.name.endswith("." + token) or entry.public.endswith("." + token)
                or entry.name.split("[")[0].endswith("." + token))

    return [entry for entry in entries.values() if any(matches(entry, token) for token in only)]


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def summarise(cases: list[dict]) -> dict:
    """Counts: overall, per module and per callable (bad outcomes only for the last two)."""
    overall = Counter(c["outcome"] for c in cases)
    per_module: dict[str, Counter] = defaultdict(Counter)
    per_callable: dict[str, Counter] = defaultdict(Counter)
    for c in cases:
        per_module[c["module"]]["cases"] += 1
        per_callable[c["callable"]]["cases"] += 1
        if c["outcome"] in engine.BAD_OUTCOMES:
            per_module[c["module"]][c["outcome"]] += 1
            per_module[c["module"]]["bad"] += 1
            per_callable[c["callable"]][c["outcome"]] += 1
            per_callable[c["callable"]]["bad"] += 1
    return {"overall": overall, "per_module": per_module, "per_callable": per_callable}


def outcome_rows(overall: Counter) -> list[list[str]]:
    total = sum(overall.values()) or 1
    return [[o, overall.get(o, 0), f"{100 * overall.get(o, 0) / total:.1f} %", engine.OUTCOME_TEXT[o]]
            for o in engine.OUTCOMES]


def bad_rows(counters: dict[str, Counter], limit: int | None = None) -> list[list]:
    ranked = sorted(((name, c) for name, c in counters.items() if c["bad"]), key=lambda kv: (-kv[1]["bad"], kv[0]))
    return [[name, c["cases"], c["bad"], *(c.get(o, 0) for o in BAD)] for name, c in ranked[:limit]]


def catalogue() -> list[str]:
    """Markdown rows: each role's mutations (for a sample value), the ones refused by default in bold."""
    import torch

    samples = {"tensor": torch.rand(2, 3), "int_tensor": torch.tensor([0, 1]), "bool_tensor": torch.tensor([True]),
               "count": 3, "index": 3, "seed": 3, "int_choice": 32, "positive": 0.1, "nonneg": 0.1, "fraction": 0.1,
               "real": 0.1, "choice": "a", "device": "cpu", "module": None, "callable": None, "object": None,
               "mapping": {}, "int_seq": [1], "float_seq": [1.0], "str_seq": ["a"], "tensor_seq": [], "module_seq": [],
               "seq": []}
    rows = []
    for role, sample in samples.items():
        mutations = engine.mutations_for(role, sample, optional=False)
        rows.append(f"| {role} | " + ", ".join(f"**{m}**" if refused else m for m, refused in mutations) + " |")
    return rows


OVERRIDE_KINDS = {
    "accept": "a mutation that is refused by default is legitimate here",
    "nonfinite_ok": "NaN/inf in the result is legitimate here",
    "skip": "the mutation is not run",
    "errors": "an exception type other than TypeError/ValueError is the documented answer",
    "refuse": "a mutation that is legitimate by default must be refused here",
}


def overrides(entries: list[engine.Entry]) -> list[dict]:
    """Every judgement an entry overrides, with its written reason: the deliberate exceptions."""
    return [{"kind": kind, "entry": entry.name, "pattern": pattern, "reason": reason}
            for entry in entries for kind in OVERRIDE_KINDS
            for pattern, reason in getattr(entry, kind).items()]


def override_rows(items: list[dict]) -> list[str]:
    """One row per (kind, reason): the entries and patterns it covers."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for item in items:
        grouped.setdefault((item["kind"], item["reason"]), []).append(f"`{item['entry']}` `{item['pattern']}`")
    return [f"| {kind} | {reason} | {', '.join(where)} |"
            for (kind, reason), where in sorted(grouped.items(), key=lambda kv: (kv[0][0], -len(kv[1]), kv[0][1]))]


def markdown(report: dict) -> str:
    """The BEFORE/AFTER report: outcomes, totals, exclusions, the worst callables, the runtime."""
    meta, summary = report["meta"], summarise(report["cases"])
    out = [f"# API fuzz of course_lib — {meta['started']}", "",
           f"`{meta['command']}` — {meta['n_public']} public callables ({meta['n_fuzzed_public']} fuzzed through "
           f"{meta['n_entries']} entries, {len(report['excluded'])} excluded), **{meta['n_cases']} cases**, "
           f"runtime **{meta['seconds'] / 60:.1f} min** ({meta['jobs']} workers, time limit {meta['timeout']} s, "
           f"RLIMIT_AS {meta['memory_gib']} GiB; Python {meta['python']}, torch {meta['torch']}).", "",
           "## Outcomes", "", "| outcome | cases | share | meaning |", "|---|---:|---:|---|"]
    out += [f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} |" for r in outcome_rows(summary["overall"])]
    bad_total = sum(summary["overall"].get(o, 0) for o in BAD)
    out += ["", f"Bad outcomes (foreign_error + silent + nonfinite + hang + oom): **{bad_total}**.", ""]
    out += ["## Bad outcomes per module", "", "| module | cases | bad | " + " | ".join(BAD) + " |",
            "|---|" + "---:|" * (2 + len(BAD))]
    out += ["| " + " | ".join(map(str, r)) + " |" for r in bad_rows(summary["per_module"])]
    foreign = Counter((c["exc_type"], c["origin"]) for c in report["cases"] if c["outcome"] == "foreign_error")
    out += ["", "## Foreign errors by exception type and origin", "",
            "Origin: `library raise` is a raise statement in course_lib of a type other than TypeError/ValueError; "
            "`C/builtin called from library` is an error out of a torch op or a Python builtin that a course_lib "
            "line called (torch's C++ errors surface so); otherwise the package whose file raised it.", "",
            "| exception | origin | cases |", "|---|---|---:|"]
    out += [f"| {t} | {o} | {n} |" for (t, o), n in foreign.most_common(25)]
    out += ["", "## Top 30 callables by bad outcomes", "", "| callable | cases | bad | " + " | ".join(BAD) + " |",
            "|---|" + "---:|" * (2 + len(BAD))]
    out += ["| " + " | ".join(map(str, r)) + " |" for r in bad_rows(summary["per_callable"], 30)]
    out += ["", "## Mutations per role", "",
            "Bold: must be refused by default (returning a result is `silent`); the others are legitimate "
            "unless an entry says otherwise (its `accept` / `refuse`, each with a reason, are in the JSON per case). "
            "`none` is legitimate where the parameter is Optional. Only arguments the valid call passes are mutated.",
            "", "| role | mutations |", "|---|---|", *catalogue()]
    out += ["", "## Deliberate exceptions (overridden judgements, each with its reason)", "",
            "Kinds: " + "; ".join(f"`{k}`: {v}" for k, v in OVERRIDE_KINDS.items()) + ".", "",
            "| kind | reason | entries and patterns |", "|---|---|---|", *override_rows(report.get("overrides", []))]
    out += ["", "## Registry errors (valid calls that failed; not library outcomes)", ""]
    out += [f"- `{e['entry']}`: {e['error']} {e.get('where', '')}" for e in report["registry_errors"]] or ["None."]
    out += ["", "## Excluded public callables", "", "| callable | reason |", "|---|---|"]
    out += [f"| `{name}` | {reason} |" for name, reason in sorted(report["excluded"].items())]
    out += [f"| `{name}` (package) | {reason} |" for name, reason in valid_calls.SKIPPED_PACKAGES.items()]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.api_fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", metavar="MODULE_OR_NAME", help="fuzz only these modules or callables")
    parser.add_argument("--jobs", type=int, default=2, help="forked children at a time (default 2)")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds before a case counts as hung (default 20)")
    parser.add_argument("--memory", type=float, default=3.0, help="RLIMIT_AS of each child in GiB (default 3)")
    parser.add_argument("--json", metavar="OUT", help="write every case and the summary to this JSON file")
    parser.add_argument("--markdown", metavar="OUT", help="write the report as Markdown")
    parser.add_argument("--details", action="store_true", help="print every bad case")
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.timeout <= 0 or args.memory <= 0:
        parser.error("--jobs, --timeout and --memory must be positive")

    missing = uncovered()
    entries = selected(valid_calls.REGISTRY.entries, args.only)
    if not entries:
        parser.error(f"--only {' '.join(args.only)} names no registry entry")
    print(f"fuzzing {len(entries)} entries with {args.jobs} workers (time limit {args.timeout:g} s, "
          f"RLIMIT_AS {args.memory:g} GiB)", flush=True)
    valid_calls.warm_up()
    started = datetime.datetime.now(datetime.timezone.utc)
    result = engine.fuzz(entries, jobs=args.jobs, timeout=args.timeout, memory_bytes=int(args.memory * 2**30),
                         progress=lambda text: print(text, flush=True))
    registry_errors = result.registry_errors + [{"entry": name, "error": "public callable with neither a registry "
                                                 "entry nor an exclusion", "where": ""} for name in missing]

    import torch

    public = engine.public_callables(valid_calls.PACKAGE, valid_calls.SKIPPED_PACKAGES)
    fuzzed_public = {e.public for e in entries}
    report = {
        "meta": {"started": started.strftime("%Y-%m-%d %H:%M UTC"), "seconds": round(result.seconds, 1),
                 "command": "python -m tests.api_fuzz " + " ".join(argv if argv is not None else sys.argv[1:]),
                 "jobs": args.jobs, "timeout": args.timeout, "memory_gib": args.memory,
                 "python": platform.python_version(), "torch": torch.__version__, "n_public": len(public),
                 "n_fuzzed_public": len(fuzzed_public), "n_entries": len(entries), "n_cases": len(result.cases),
                 "outcomes": dict(Counter(c["outcome"] for c in result.cases))},
        "excluded": valid_calls.REGISTRY.excluded,
        "overrides": overrides(entries),
        "registry_errors": registry_errors,
        "entries": result.entries,
        "cases": result.cases,
    }
    summary = summarise(result.cases)
    print()
    print(_table([r[:3] for r in outcome_rows(summary["overall"])], ["outcome", "cases", "share"]))
    print(f"\n{len(result.cases)} cases over {len(result.entries)} entries in {result.seconds / 60:.1f} min")
    header = ["", "cases", "bad", *BAD]
    if any(c["bad"] for c in summary["per_module"].values()):
        print("\nbad outcomes per module\n" + _table(bad_rows(summary["per_module"]), ["module", *header[1:]]))
        print("\nbad outcomes per callable\n" + _table(bad_rows(summary["per_callable"]), ["callable", *header[1:]]))
    if args.details:
        for c in result.cases:
            if c["outcome"] in engine.BAD_OUTCOMES:
                print(f"{c['outcome']:13s} {c['callable']}  {c['argument']}:{c['mutation']}  "
                      f"{c['exc_type']}: {c['message'][:120]}  {c['where']}")
    if registry_errors:
        print(f"\n{len(registry_errors)} registry errors (not library outcomes):")
        for e in registry_errors:
            print(f"  {e['entry']}: {e['error']} {e.get('where', '')}")
    for path, text in ((args.json, lambda: json.dumps(report, indent=1, default=str)),
                       (args.markdown, lambda: markdown(report))):
        if path:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text())
            print(f"wrote {path}")
    if any(c["outcome"] in engine.BAD_OUTCOMES for c in result.cases):
        return 1
    return 2 if registry_errors else 0


if __name__ == "__main__":
    sys.exit(main())
