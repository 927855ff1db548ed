"""Generated rule directories for the scale benchmark (bench/rules_scale.py): rules of realistic
shapes, written as YAML files as people write them, in one file or spread over many.

Each rule is written around one source document of the corpus (as a rule is written around a
story): most of its words come from that document, the rest from the whole corpus, from rare
words and from invented words that occur nowhere. The shapes use the whole rule language:
phrases, prefix, suffix and infix wildcards, elided articles, word forms, `near` (ordered or
not), `at_least`, `count`, `not`/`none`, title/text/lead fields, sentence and paragraph
conditions, shared and local lists, case-sensitive acronyms, filters and alert options.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

from matcher import RuleGenerator, Vocabulary  # bench/matcher.py: the corpus's words, and picking them

SHARED_LISTS = 200  # shared lists in rules/lists/ (a few terms each)
LANGUAGES = ("en", "de", "fr", "it", "es", "ru")


def quoted(term: str) -> str:
    """A term as a YAML flow scalar: JSON quoting is valid YAML and keeps every character."""
    return json.dumps(term, ensure_ascii=False)


class RuleWriter:
    """Writes rule `i` of a generated set as YAML text (bench/matcher.py's generator picks the words)."""

    def __init__(self, vocab: Vocabulary, seed: int) -> None:
        self.pick = RuleGenerator(vocab, random.Random(seed))
        self.rng = self.pick.rng
        self.vocab = vocab
        self.seed = seed
        self.lists = [f"shared{k:03d}" for k in range(SHARED_LISTS)]
        self.extra: list[str] = []

    # Words ---------------------------------------------------------------------------------

    def long_word(self) -> str:
        word = self.pick.word()
        for _ in range(5):
            if len(word) >= 7:
                break
            word = self.pick.word()
        return word

    def prefix(self, word: str | None = None) -> str:
        return self.pick.wildcard(word).text

    def words(self) -> str:
        return self.pick.phrase().text

    def suffix(self) -> str:
        word = self.long_word()
        return "*" + word[-max(4, len(word) - 3) :] if len(word) >= 7 else word

    def infix(self) -> str:
        word = self.long_word()
        return "*" + word[2:-2] + "*" if len(word) >= 9 else word

    def elided(self) -> str:
        word = self.pick.word()
        return "l'" + word if word[:1].lower() in "aeiouéh" else word

    def cased(self) -> str:
        acronym = self.pick.acronym()
        return "{term: " + quoted(acronym.text) + ", case: true}" if acronym.case else quoted(acronym.text)

    def shared(self) -> str:
        return "$" + self.rng.choice(self.lists)

    def terms(self, *words: str) -> str:
        return "[" + ", ".join(w if w.startswith(("{", "$")) else quoted(w) for w in words) + "]"

    # Rules ---------------------------------------------------------------------------------

    def rule(self, index: int) -> list[str]:
        """The lines of rule `index` (no indentation)."""
        self.rng.seed(self.seed * 1_000_003 + index)
        self.pick.doc = self.rng.randrange(len(self.vocab.tokens))
        shapes: list[Callable[[], list[str]]] = [
            self.all_any_not,
            self.near,
            self.sentence_with_list,
            self.lead_and_suffix,
            self.at_least_infix,
            self.title_and_text,
            self.paragraph_near,
            self.count_and_none,
            self.forms_and_filters,
            self.phrases_and_word,
        ]
        self.extra = []
        when = self.rng.choice(shapes)()
        lines = [
            f"id: gen-{index:06d}",
            f"title: {quoted('Generated rule ' + str(index) + ': ' + self.pick.word())}",
            f"severity: {self.rng.choice(('low', 'medium', 'medium', 'high'))}",
        ]
        if self.rng.random() < 0.3:
            lines.append(f"tags: [{self.rng.choice(('eu', 'russia', 'markets', 'energy'))}, generated]")
        lines.append("when:")
        lines.extend("  " + line for line in when)
        lines.extend(self.extra)
        if self.rng.random() < 0.2:
            lines += ["alert:", f"  realert: {self.rng.choice(('6h', '12h', '24h'))}"]
        return lines

    def all_any_not(self) -> list[str]:
        return [
            "all:",
            f"  - {quoted(self.pick.word())}",
            f"  - any: {self.terms(self.words(), self.prefix())}",
            f"  - not: {quoted(self.pick.excluded())}",
        ]

    def near(self) -> list[str]:
        a, c = self.pick.near_pair()
        return [f"near: [{self.terms(a, self.pick.word())}, {quoted(self.prefix(c))}]", "within: 6"]

    def sentence_with_list(self) -> list[str]:
        return ["sentence:", f"  all: [{quoted(self.pick.word())}, {self.shared()}, {quoted(self.elided())}]"]

    def lead_and_suffix(self) -> list[str]:
        return [
            "all:",
            f"  - lead: {self.terms(self.pick.word(), self.prefix())}",
            f"  - {self.cased()}" if self.rng.random() < 0.5 else f"  - {quoted(self.suffix())}",
        ]

    def at_least_infix(self) -> list[str]:
        return ["at_least: 2", f"of: {self.terms(self.pick.word(), self.pick.word(), self.words(), self.infix())}"]

    def title_and_text(self) -> list[str]:
        titles = self.vocab.titles[self.pick.doc]
        a = self.rng.choice(titles) if titles else self.pick.word()
        return ["all:", f"  - title: {self.terms(a, self.prefix())}", f"  - text: {quoted(self.pick.word())}"]

    def paragraph_near(self) -> list[str]:
        a, b = self.pick.near_pair()
        return [
            "paragraph:",
            f"  near: [{quoted(a)}, {self.terms(b, self.shared())}]",
            f"  within: {self.rng.choice((8, 12, 16))}",
            "  ordered: true",
        ]

    def count_and_none(self) -> list[str]:
        return [
            "all:",
            f"  - count: {quoted(self.pick.word())}",
            "    min: 2",
            f"  - {quoted(self.pick.word())}",
            f"  - none: {self.terms(self.pick.excluded(), self.pick.excluded())}",
        ]

    def forms_and_filters(self) -> list[str]:
        language = self.rng.choice(LANGUAGES)
        self.extra = [
            f"forms: {language}",
            "lists:",
            f"  local: {self.terms(self.pick.word(), self.pick.word(), self.prefix())}",
            "filters:",
            f"  languages: [{language}]",
            "  max_age: 48h",
        ]
        return [
            "all:",
            f"  - {quoted(self.pick.word())}",
            f"  - any: [$local, {self.shared()}, {quoted(self.words())}]",
        ]

    def phrases_and_word(self) -> list[str]:
        return ["all:", f"  - any: {self.terms(self.words(), self.words())}", f"  - {quoted(self.pick.word())}"]

    # Shared lists ----------------------------------------------------------------------------

    def shared_lists(self) -> list[str]:
        """The lines of rules/lists/generated.yaml."""
        rng = random.Random(self.seed)
        lines = ["# Generated shared lists (bench/rules_gen.py)."]
        for name in self.lists:
            self.pick.doc = rng.randrange(len(self.vocab.tokens))
            self.rng.seed(rng.random())
            words = {self.pick.word() for _ in range(rng.randint(3, 8))}
            if rng.random() < 0.3:
                lines += [f"{name}:", "  forms: true", f"  terms: {self.terms(*sorted(words))}"]
            else:
                lines.append(f"{name}: {self.terms(*sorted(words))}")
        return lines


def write_directory(writer: RuleWriter, directory: Path, count: int, files: int) -> list[Path]:
    """Write `count` rules into `files` files under `directory` (plus the shared lists); the rule files."""
    lists = directory / "lists"
    lists.mkdir(parents=True, exist_ok=True)
    (lists / "generated.yaml").write_text("\n".join(writer.shared_lists()) + "\n", encoding="utf-8")
    paths = []
    per_file, extra = divmod(count, files)
    index = 0
    for f in range(files):
        n = per_file + (1 if f < extra else 0)
        if n == 0:
            continue
        path = directory / (f"g{f // 100:02d}/rules-{f:04d}.yaml" if files > 1 else "rules.yaml")
        path.parent.mkdir(parents=True, exist_ok=True)
        if n == 1:
            body = writer.rule(index)
        else:
            body = ["rules:"]
            for k in range(n):
                lines = writer.rule(index + k)
                body.append("  - " + lines[0])
                body.extend("    " + line for line in lines[1:])
        path.write_text("\n".join(body) + "\n", encoding="utf-8")
        paths.append(path)
        index += n
    return paths
