"""Check that this matcher gives every document the same matches, hits and excerpts as another revision's.

Run from the project root:

    .venv/bin/python bench/matcher_equivalence.py                  # against main, 10,000 rules
    .venv/bin/python bench/matcher_equivalence.py --ref HEAD~3 --sizes 10000,100000

Generated rules (bench/rules_gen.py, as bench/rules_scale.py writes them) and the rules that ship
in rules/ are matched against every bench document (those the rules are written from too: they
match most), each in its detected language and again with none declared, by this checkout's
`monitor/` and by the revision's (`git archive REF monitor`), each in a process of its own. Every
match is compared: the rule, every hit (term, field, offsets, text) and the excerpt. It also prints
both matchers' CPU time per document, measured in the same run: a paired before/after. Exits 1 on
any difference.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from common import ROOT, add_corpus_option
from matcher import BarePass, Vocabulary, load_documents
from rules_gen import RuleWriter, write_directory

from monitor.document import Document
from monitor.rules.loader import load_rules
from monitor.rules.matcher import Matcher

REPS = 3  # timed passes over the documents, after an untimed one


def cpu_samples(match: Callable[[Document], object], docs: Sequence[Document]) -> list[float]:
    """The process's CPU time of each call of `match`, REPS passes over `docs`."""
    samples: list[float] = []
    for _ in range(REPS):
        for doc in docs:
            start = time.process_time()
            match(doc)
            samples.append(time.process_time() - start)
    return samples


def dump(rules_dir: Path, docs_path: Path, out_path: Path) -> None:
    """Match every document against the rules of `rules_dir` with the `monitor` importable here."""
    import monitor

    texts = json.loads(docs_path.read_text(encoding="utf-8"))
    docs = [Document(id=str(i), title=t, text=x, language=lang) for i, (t, x, lang) in enumerate(texts)]
    docs += [Document(id=f"{i}-undeclared", title=t, text=x) for i, (t, x, _) in enumerate(texts)]
    rules = load_rules(rules_dir).rules
    matcher = Matcher(rules)
    results: list[list[Any]] = []
    for doc in docs:
        results.append(
            [
                [m.rule.id, [[h.term, h.field, h.start, h.end, h.text] for h in m.hits], m.snippet]
                for m in matcher.match(doc)
            ]
        )
    # Matching again must give the same: nothing a document leaves behind changes the next one.
    again = [[[m.rule.id, m.snippet] for m in matcher.match(doc)] for doc in docs]
    stable = again == [[[m[0], m[2]] for m in r] for r in results]
    timed = docs[: len(texts)]
    samples = cpu_samples(matcher.match, timed)
    bare_samples = cpu_samples(BarePass(rules).match, timed)
    out = {
        "module": monitor.__file__,
        "rules": len(matcher.rules),
        "results": results,
        "stable": stable,
        "mean": statistics.fmean(samples),
        "p99": sorted(samples)[int(0.99 * len(samples))],
        "bare": statistics.fmean(bare_samples),
    }
    out_path.write_text(json.dumps(out), encoding="utf-8")


def run_dump(rules_dir: Path, docs_path: Path, out_path: Path, pythonpath: str | None) -> dict[str, Any]:
    command = [sys.executable, __file__]
    if pythonpath is not None:
        # Ahead of the project root (which bench/common.py puts first) and of the editable install.
        here = Path(__file__).parent
        start = f"import sys, runpy; sys.path[:0] = {[pythonpath, str(ROOT), str(here)]!r}; "
        command = [sys.executable, "-c", start + f"runpy.run_path({__file__!r}, run_name='__main__')"]
    command += ["--dump", str(rules_dir), str(docs_path), str(out_path)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"the matching process failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out_path.read_text(encoding="utf-8"))
    return result


def differences(names: Sequence[str], old: list[list[Any]], new: list[list[Any]]) -> list[str]:
    out: list[str] = []
    for name, before, after in zip(names, old, new, strict=True):
        if before == after:
            continue
        was = {m[0]: m for m in before}
        now = {m[0]: m for m in after}
        for rid in sorted(was.keys() | now.keys()):
            if was.get(rid) != now.get(rid):
                out.append(f"{name}: rule {rid}: before {was.get(rid)!r}\n    after {now.get(rid)!r}")
        if [m[0] for m in before] != [m[0] for m in after] and not out:
            out.append(f"{name}: the matches' order differs")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--ref", default="main", help="the revision to compare with (default: main)")
    parser.add_argument("--sizes", default="10000", help="comma-separated numbers of generated rules (default 10000)")
    parser.add_argument("--seed", type=int, default=1, help="seed for the generated rules (default 1)")
    add_corpus_option(parser)
    parser.add_argument("--dump", nargs=3, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.dump:
        dump(*args.dump)
        return 0

    from monitor.language import detect_language

    docs: list[Document] = load_documents(args.corpus)
    with tempfile.TemporaryDirectory(prefix="matcher-equivalence-") as tmp:
        work = Path(tmp)
        base = work / "base"
        base.mkdir()
        git = ["git", "-C", str(ROOT), "archive", args.ref, "monitor"]
        archive = subprocess.run(git, check=True, capture_output=True)
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(base, filter="data")
        docs_path = work / "docs.json"
        docs_path.write_text(
            json.dumps([(d.title, d.text, d.language or detect_language(d.title, d.text)) for d in docs]),
            encoding="utf-8",
        )
        names = [d.id for d in docs] + [f"{d.id} (language undeclared)" for d in docs]
        # As bench/rules_scale.py: the rules are written from every other document.
        writer = RuleWriter(Vocabulary.build(docs[0::2], random.Random(args.seed)), args.seed)
        sets = [(f"{int(n):,} generated rules", int(n)) for n in args.sizes.split(",")]
        failed = False
        for label, size in [("the shipped rules (rules/)", 0), *sets]:
            if size:
                rules_dir = work / f"rules-{size}"
                write_directory(writer, rules_dir, size, min(1000, size))
            else:
                rules_dir = ROOT / "rules"
            old = run_dump(rules_dir, docs_path, work / "old.json", str(base))
            new = run_dump(rules_dir, docs_path, work / "new.json", None)
            if not old["module"].startswith(str(base)) or old["module"] == new["module"]:
                sys.exit(f"the baseline imported {old['module']}, not {args.ref}'s copy")
            found = differences(names, old["results"], new["results"])
            matches = sum(len(r) for r in new["results"])
            hits = sum(len(m[1]) for r in new["results"] for m in r)
            print(
                f"{label} ({new['rules']:,}), {len(names)} document matchings: {matches:,} matches, {hits:,} hits:"
                f" {'SAME' if not found else f'{len(found)} DIFFERENCES'}"
                f"{'' if new['stable'] and old['stable'] else ' (matching a document twice differed!)'}"
            )
            print(
                f"  CPU ms per document ({len(docs)} documents, {REPS} passes): {args.ref} mean {old['mean'] * 1e3:.2f}"
                f" p99 {old['p99'] * 1e3:.1f} ({old['mean'] / old['bare']:.1f}x bare);"
                f" this mean {new['mean'] * 1e3:.2f} p99 {new['p99'] * 1e3:.1f} ({new['mean'] / new['bare']:.1f}x bare)"
            )
            for line in found[:20]:
                print("  " + line)
            failed = failed or bool(found) or not new["stable"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
