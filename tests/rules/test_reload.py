"""Reloading rules: only the files that changed are read again; a broken change is refused whole."""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from monitor.document import Document
from monitor.errors import RuleLoadError
from monitor.rules.frequency import TermFrequency
from monitor.rules.loader import RuleSet, load_rules
from monitor.rules.matcher import Matcher
from monitor.rules.model import (
    AlertOptions,
    AllNode,
    AnyNode,
    AtLeastNode,
    Filters,
    Node,
    NotNode,
    Rule,
    Term,
    TermNode,
)
from monitor.yamlfile import MAX_YAML_BYTES

WriteRules = Callable[[dict[str, str]], Path]

FILES = {
    "a.yaml": "id: a\ntitle: A\nwhen: [Putin, $leaders]\n",
    "b.yaml": "rules:\n  - id: b1\n    title: B1\n    when: Macron\n  - id: b2\n    title: B2\n    when: Scholz\n",
    "sub/c.yaml": "id: c\ntitle: C\nwhen: {all: [Meloni, $places]}\n",
    "lists/l.yaml": "leaders: [Xi]\nplaces: [Rome]\n",
}


def edit(path: Path, text: str) -> None:
    """Rewrite a file and make sure its modification time moves (as an editor's save does)."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))


def by_id(ruleset: RuleSet) -> dict[str, Rule]:
    return {rule.id: rule for rule in ruleset.rules}


@pytest.fixture
def loaded(write_rules: WriteRules) -> tuple[Path, RuleSet]:
    directory = write_rules(FILES)
    return directory, load_rules(directory)


def test_nothing_changed_nothing_read(loaded: tuple[Path, RuleSet]) -> None:
    directory, first = loaded
    again = load_rules(directory, previous=first)
    assert again.read == 0
    assert [r.id for r in again.rules] == ["a", "b1", "b2", "c"]
    assert all(x is y for x, y in zip(again.rules, first.rules, strict=True))


def test_a_file_rewritten_as_it_was_is_not_parsed_again(loaded: tuple[Path, RuleSet]) -> None:
    # As a Kubernetes ConfigMap update rewrites every file, changed or not (new inodes, new times).
    directory, first = loaded
    path = directory / "b.yaml"
    text = path.read_text(encoding="utf-8")
    path.unlink()
    edit(path, text)
    again = load_rules(directory, previous=first)
    assert again.read == 0
    assert all(x is y for x, y in zip(again.rules, first.rules, strict=True))


def test_only_the_changed_file_is_read_again(loaded: tuple[Path, RuleSet]) -> None:
    directory, first = loaded
    edit(directory / "b.yaml", "id: b1\ntitle: B1 edited\nwhen: Macron\n")
    again = load_rules(directory, previous=first)
    assert again.read == 1
    assert [r.id for r in again.rules] == ["a", "b1", "c"]
    old, new = by_id(first), by_id(again)
    assert new["a"] is old["a"] and new["c"] is old["c"]
    assert again.rules[1].title == "B1 edited"


def test_files_added_and_removed(loaded: tuple[Path, RuleSet]) -> None:
    directory, first = loaded
    (directory / "sub" / "c.yaml").unlink()
    edit(directory / "d.yaml", "id: d\ntitle: D\nwhen: Sánchez\n")
    again = load_rules(directory, previous=first)
    assert again.read == 1
    assert [r.id for r in again.rules] == ["a", "b1", "b2", "d"]


def test_a_changed_shared_list_reloads_the_rules_that_use_it(loaded: tuple[Path, RuleSet]) -> None:
    directory, first = loaded
    edit(directory / "lists" / "l.yaml", "leaders: [Xi]\nplaces: [Rome, Milan]\n")
    again = load_rules(directory, previous=first)
    assert again.read == 1  # sub/c.yaml: only it uses $places
    old, new = by_id(first), by_id(again)
    assert new["a"] is old["a"] and new["b1"] is old["b1"] and new["c"] is not old["c"]
    matched = Matcher(again.rules).match(Document(id="d", title="Meloni in Milan", text=""))
    assert [m.rule.id for m in matched] == ["c"]


def test_a_removed_shared_list_is_an_error_in_the_rules_that_use_it(loaded: tuple[Path, RuleSet]) -> None:
    directory, first = loaded
    edit(directory / "lists" / "l.yaml", "leaders: [Xi]\n")
    with pytest.raises(RuleLoadError) as caught:
        load_rules(directory, previous=first)
    assert caught.value.errors == [f"{directory / 'sub' / 'c.yaml'}:3: undefined list '$places'"]


def test_a_broken_change_is_refused_with_every_error(loaded: tuple[Path, RuleSet]) -> None:
    directory, first = loaded
    edit(directory / "b.yaml", "id: b1\ntitle: B1\nwhen: $nope\n")
    edit(directory / "e.yaml", "id: a\ntitle: E\nwhen: x\n")
    with pytest.raises(RuleLoadError) as caught:
        load_rules(directory, previous=first)
    assert caught.value.errors == [
        f"{directory / 'b.yaml'}:3: undefined list '$nope'",
        f"{directory / 'e.yaml'}:1: duplicate rule id 'a' (first defined at {directory / 'a.yaml'}:1)",
    ]
    # The set in force is untouched, and a later good change loads from it.
    edit(directory / "b.yaml", FILES["b.yaml"])
    (directory / "e.yaml").unlink()
    again = load_rules(directory, previous=first)
    assert [r.id for r in again.rules] == ["a", "b1", "b2", "c"]
    assert again.read == 0  # b.yaml is again as it was when `first` was loaded


def test_an_id_repeated_by_a_reload_is_reported_as_a_cold_load_reports_it(loaded: tuple[Path, RuleSet]) -> None:
    # The reload checks only the rules it read against the others; a repeat is listed as a full load lists it.
    directory, first = loaded
    edit(directory / "b.yaml", "rules:\n  - id: c\n    title: C\n    when: x\n  - id: a\n    title: A\n    when: y\n")
    with pytest.raises(RuleLoadError) as reloaded:
        load_rules(directory, previous=first)
    with pytest.raises(RuleLoadError) as cold:
        load_rules(directory)
    assert reloaded.value.errors == cold.value.errors
    assert cold.value.errors == [
        f"{directory / 'b.yaml'}:5: duplicate rule id 'a' (first defined at {directory / 'a.yaml'}:1)",
        f"{directory / 'sub' / 'c.yaml'}:1: duplicate rule id 'c' (first defined at {directory / 'b.yaml'}:2)",
    ]
    # Ids moved between files without a repeat load as a cold load does.
    edit(directory / "b.yaml", "id: b3\ntitle: B3\nwhen: x\n")
    edit(directory / "sub" / "c.yaml", "rules:\n  - id: b1\n    title: B1\n    when: y\n")
    assert [r.id for r in load_rules(directory, previous=first).rules] == ["a", "b3", "b1"]
    assert [r.id for r in load_rules(directory).rules] == ["a", "b3", "b1"]


def test_a_rule_file_that_fails_halfway_keeps_nothing_of_its_first_rules(write_rules: WriteRules) -> None:
    # The first rule is parsed (and handed over) before the syntax error is met.
    directory = write_rules({"r.yaml": "rules:\n  - id: a\n    title: A\n    when: x\n  - id: b\n    when: [y\n"})
    with pytest.raises(RuleLoadError) as caught:
        load_rules(directory)
    assert len(caught.value.errors) == 1
    assert caught.value.errors[0].startswith(f"{directory / 'r.yaml'}:6: invalid YAML")


DOCS = [
    Document(id="1", title="Putin and Xi", text="Meloni was in Rome, Macron in Paris."),
    Document(id="2", title="Scholz", text="Sánchez met Meloni in Milan; Scholz stayed home."),
    Document(id="3", title="Nothing", text="A quiet day."),
]


def matched(matcher: Matcher) -> list[list[str]]:
    return [[m.rule.id for m in matcher.match(doc)] for doc in DOCS]


def test_an_updated_matcher_matches_as_one_built_afresh(loaded: tuple[Path, RuleSet]) -> None:
    directory, first = loaded
    old = Matcher(first.rules)
    before = matched(old)
    edit(directory / "b.yaml", "id: b1\ntitle: B1\nwhen: {all: [Sánchez, Milan]}\n")
    edit(directory / "lists" / "l.yaml", "leaders: [Xi]\nplaces: [Rome, Milan]\n")
    again = load_rules(directory, previous=first)
    updated = old.updated(again.rules)
    assert matched(updated) == matched(Matcher(again.rules)) == [["a", "c"], ["b1", "c"], []]
    assert matched(old) == before == [["a", "b1", "c"], ["b2"], []]  # the matcher in force is untouched
    # And again on top of the updated one (its second automaton grows).
    edit(directory / "d.yaml", "id: d\ntitle: D\nwhen: {sentence: {all: [quiet, day]}}\n")
    third = updated.updated(load_rules(directory, previous=again).rules)
    assert matched(third) == [["a", "c"], ["b1", "c"], ["d"]]


def test_rules_are_anchored_on_their_two_rarest_terms(write_rules: WriteRules) -> None:
    directory = write_rules({"r.yaml": "id: r\ntitle: R\nwhen: {all: [said, minister, Kellogg]}\n"})
    rules = load_rules(directory).rules
    doc = Document(id="1", title="Talks", text="The minister said nothing.")
    assert Matcher(rules).candidates(doc) == ()  # anchored on "Kellogg" and "minister": Kellogg is absent
    uniform = Matcher(rules, TermFrequency.uniform())  # equal weights: the first two of the smallest sets
    assert [r.id for r in uniform.candidates(doc)] == ["r"]
    assert Matcher(rules).match(doc) == uniform.match(doc) == []
    # One anchor found is not enough: the other must be found too.
    assert Matcher(rules).candidates(Document(id="2", title="Talks", text="Kellogg said nothing.")) == ()
    found = Document(id="3", title="Talks", text="Kellogg told the minister.")
    assert [r.id for r in Matcher(rules).candidates(found)] == ["r"]


def test_a_rule_edited_in_a_big_file_keeps_the_others_as_they_were(loaded: tuple[Path, RuleSet]) -> None:
    directory, first = loaded
    old = by_id(first)
    # b2's title changes (its condition does not); b1 is as it was, one line lower.
    edit(directory / "b.yaml", "# a comment\n" + FILES["b.yaml"].replace("title: B2", "title: B2 edited"))
    again = load_rules(directory, previous=first)
    new = by_id(again)
    assert again.read == 1
    assert new["b1"] is not old["b1"] and new["b1"].line == old["b1"].line + 1  # where it is now
    assert new["b1"].when is old["b1"].when and new["b2"].when is old["b2"].when
    assert again.rules[2].title == "B2 edited"
    matcher = Matcher(first.rules).updated(again.rules)
    assert matched(matcher) == matched(Matcher(again.rules))


def many(count: int, edited: dict[int, str] | None = None) -> str:
    """A file of `count` rules; rule i's lines replaced by `edited[i]` where given."""
    items = [f"  - id: r{i}\n    title: R{i}\n    when: [Putin, w{i}]\n" for i in range(count)]
    for i, text in (edited or {}).items():
        items[i] = text
    return "# many rules\nrules:\n" + "".join(items)


def test_one_rule_edited_in_a_file_of_many_is_the_only_one_parsed(write_rules: WriteRules) -> None:
    directory = write_rules({"many.yaml": many(50), "lists/l.yaml": "places: [Rome]\n"})
    first = load_rules(directory)
    assert first.parsed == 50
    # Rule 20's title edited: only its item is parsed; the others are the same objects.
    edit(directory / "many.yaml", many(50, {20: "  - id: r20\n    title: R20 edited\n    when: [Putin, w20]\n"}))
    again = load_rules(directory, previous=first)
    assert again.read == 1 and again.parsed == 1
    assert all(x is y for i, (x, y) in enumerate(zip(again.rules, first.rules, strict=True)) if i != 20)
    assert again.rules[20].title == "R20 edited" and again.rules[20].when is first.rules[20].when
    assert again.rules == load_rules(directory).rules
    # A line added to rule 10: the rules after it are where they now are, each condition as it was.
    longer = {10: "  - id: r10\n    title: R10\n    severity: high\n    when: [Putin, w10]\n"}
    edit(directory / "many.yaml", many(50, longer))
    third = load_rules(directory, previous=again)
    assert third.parsed == 2  # rule 10, and rule 20 back as it was at first (not as it was just before)
    assert third.rules == load_rules(directory).rules
    assert [r.line for r in third.rules[11:]] == [r.line + 1 for r in first.rules[11:]]
    assert all(x.when is y.when for x, y in zip(third.rules, first.rules, strict=True))
    assert matched(Matcher(first.rules).updated(third.rules)) == matched(Matcher(third.rules))


def test_a_changed_shared_list_parses_again_only_the_rules_that_use_it(write_rules: WriteRules) -> None:
    uses = {7: "  - id: r7\n    title: R7\n    when: {all: [Meloni, $places]}\n"}
    directory = write_rules({"many.yaml": many(30, uses), "lists/l.yaml": "places: [Rome]\n"})
    first = load_rules(directory)
    edit(directory / "lists" / "l.yaml", "places: [Rome, Milan]\n")
    again = load_rules(directory, previous=first)
    assert again.read == 1 and again.parsed == 1
    assert all(x is y for i, (x, y) in enumerate(zip(again.rules, first.rules, strict=True)) if i != 7)
    assert [m.rule.id for m in Matcher(again.rules).match(Document(id="d", title="Meloni in Milan", text=""))] == ["r7"]
    edit(directory / "lists" / "l.yaml", "other: [Rome]\n")
    with pytest.raises(RuleLoadError) as caught:
        load_rules(directory, previous=again)
    assert caught.value.errors == [f"{directory / 'many.yaml'}:26: undefined list '$places'"]


def test_a_rule_copied_in_a_file_of_many_is_refused_as_a_cold_load_refuses_it(write_rules: WriteRules) -> None:
    directory = write_rules({"many.yaml": many(30)})
    first = load_rules(directory)
    copied = "  - id: r3\n    title: R3\n    when: [Putin, w3]\n"
    edit(directory / "many.yaml", many(30, {25: copied}))
    with pytest.raises(RuleLoadError) as reloaded:
        load_rules(directory, previous=first)
    with pytest.raises(RuleLoadError) as cold:
        load_rules(directory)
    assert (
        reloaded.value.errors
        == cold.value.errors
        == [f"{directory / 'many.yaml'}:78: duplicate rule id 'r3' (first defined at {directory / 'many.yaml'}:12)"]
    )
    # And an error in one rule of many: listed as a cold load lists it, the set in force untouched.
    edit(directory / "many.yaml", many(30, {4: "  - id: r4\n    title: R4\n    severity: urgent\n    when: x\n"}))
    with pytest.raises(RuleLoadError) as broken:
        load_rules(directory, previous=first)
    assert broken.value.errors == [
        f"{directory / 'many.yaml'}:17: severity must be one of info, low, medium, high, critical, got 'urgent'"
    ]
    edit(directory / "many.yaml", many(30))
    assert load_rules(directory, previous=first).read == 0


def test_a_rule_file_over_the_size_limit_is_refused_with_its_size(write_rules: WriteRules) -> None:
    directory = write_rules({"ok.yaml": "id: ok\ntitle: OK\nwhen: Putin\n"})
    huge = directory / "huge.yaml"
    with huge.open("wb") as f:
        f.truncate(MAX_YAML_BYTES + 1)  # sparse: no disk used, and never read
    with pytest.raises(RuleLoadError) as caught:
        load_rules(directory)
    assert caught.value.errors == [
        f"{huge}:0: file is {MAX_YAML_BYTES + 1:,} bytes, over the limit for a YAML file (128 MiB):"
        " split it into several files"
    ]


WORDS = ["Putin", "Xi", "Meloni", "Rome", "Macron", "Scholz", "Sánchez", "Milan", "quiet", "day"]


def made(n: int, seed: int) -> Rule:
    """A rule of one to three of WORDS (all of them, or any), its id from `n`."""
    rng = random.Random(seed * 100_003 + n)
    words = rng.sample(WORDS, rng.randint(1, 3))
    node = (
        AllNode(tuple(TermNode(Term(w)) for w in words))
        if rng.random() < 0.5
        else AnyNode(tuple(TermNode(Term(w)) for w in words))
    )
    return Rule(id=f"r{n}", title=f"R{n}", when=node if len(words) > 1 else TermNode(Term(words[0])))


def test_an_updated_matcher_after_many_edits_matches_and_picks_as_one_built_afresh() -> None:
    # Rules inserted, removed and replaced at the start, the end and in the middle, one matcher
    # updated from the last each time; and inserts at one place until its order keys run out.
    rng = random.Random(7)
    rules = [made(n, 0) for n in range(40)]
    matcher = Matcher(rules)
    first_matched = matched(matcher)
    serial = 40
    for step in range(60):
        at = rng.choice([0, len(rules), rng.randrange(len(rules) + 1)]) if step < 40 else 20
        cut = rng.randint(0, 3) if step < 40 else 0
        added = [made(serial + i, step) for i in range(rng.randint(0, 3) if step < 40 else 1)]
        serial += len(added)
        rules = rules[:at] + added + rules[at + cut :]
        matcher = matcher.updated(rules)
        fresh = Matcher(rules)
        assert matched(matcher) == matched(fresh)
        assert [[r.id for r in matcher.candidates(doc)] for doc in DOCS] == [
            [r.id for r in fresh.candidates(doc)] for doc in DOCS
        ]
        assert [r.id for r in matcher.rules] == [r.id for r in rules]
    assert matched(Matcher([made(n, 0) for n in range(40)])) == first_matched


def presearch_arrays(matcher: Matcher) -> list[list[int]]:
    from monitor.rules.matcher import _Presearch

    pre = matcher._presearch
    assert pre is not None
    fresh = _Presearch.of(matcher)
    got = [pre.keys, pre.always, pre.has_second, *pre.first, *pre.second, pre.counted_rules, pre.counted_need]
    got += [pre.exact, pre.counted_sure]
    want = [fresh.keys, fresh.always, fresh.has_second, *fresh.first, *fresh.second]
    want += [fresh.counted_rules, fresh.counted_need, fresh.exact, fresh.counted_sure]
    assert [a.tolist() for a in (*pre.counted, *got)] == [a.tolist() for a in (*fresh.counted, *want)]
    return [a.tolist() for a in got]


def test_an_updated_matchers_presearch_arrays_are_those_built_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    # The arrays of a large rule set (matcher.BULK_PRESEARCH_RULES, made small here) are patched by
    # an update, not built again: they must be what a build from scratch gives.
    from monitor.rules import matcher as matcher_module

    monkeypatch.setattr(matcher_module, "BULK_PRESEARCH_RULES", 1)
    seen: set[int] = set()  # the arrays that held something: every kind of rule was there
    rng = random.Random(11)
    rules = [counted(n, 0) for n in range(40)]
    matcher = Matcher(rules)
    serial = 40
    for step in range(40):
        at = rng.choice([0, len(rules), rng.randrange(len(rules) + 1)])
        cut = rng.randint(0, 3)
        added = [counted(serial + i, step) for i in range(rng.randint(0, 3))]
        serial += len(added)
        rules = rules[:at] + added + rules[at + cut :]
        if step % 3 == 0:  # the rules after a place moved a line down (a line added above them)
            moved = rng.randrange(len(rules) + 1)
            rules = rules[:moved] + [replace(rule, line=rule.line + 1) for rule in rules[moved:]]
        matcher = matcher.updated(rules)
        assert [c.rule for c in matcher._in_order()] == rules
        assert all(c.rule is rule for c, rule in zip(matcher._in_order(), rules, strict=True))
        arrays = presearch_arrays(matcher)
        seen.update(i for i, array in enumerate(arrays) if any(array))
        assert [[r.id for r in matcher.candidates(doc)] for doc in DOCS] == [
            [r.id for r in Matcher(rules).candidates(doc)] for doc in DOCS
        ]
    assert seen == set(range(11))


def counted(n: int, seed: int) -> Rule:
    """`made`'s rules, and some that need two of their terms (one listed twice), or have a `not`."""
    rng = random.Random(seed * 100_019 + n)
    kind = rng.random()
    if kind < 0.6:
        return made(n, seed)
    words = rng.sample(WORDS, 3)
    if kind < 0.8:
        when: Node = AtLeastNode(2, tuple(TermNode(Term(w)) for w in [*words, words[0]]))
    elif kind < 0.9:
        when = AllNode((TermNode(Term(words[0])), AnyNode((TermNode(Term(words[1])), TermNode(Term(words[2]))))))
    elif kind < 0.95:
        when = AllNode((TermNode(Term(words[0])), NotNode(TermNode(Term(words[1])))))
    else:  # no term it needs: evaluated on every document
        when = AnyNode((TermNode(Term(words[0])), NotNode(TermNode(Term(words[1])))))
    return Rule(id=f"r{n}", title=f"R{n}", when=when)


def test_a_rule_at_another_line_is_the_rule_with_only_its_line_changed() -> None:
    rule = Rule(
        id="r", title="R", when=TermNode(Term("x")), severity="high", description="d", tags=("t",), enabled=False,
        scope=("lead",), filters=Filters(languages=("de",)), alert=AlertOptions(channels=("#c",)), path="p", line=3,
    )  # fmt: skip
    assert rule.at_line(9) == replace(rule, line=9)
    assert rule.at_line(9).when is rule.when


def test_word_forms_are_compiled_with_the_matcher_not_by_a_documents_match(
    loaded: tuple[Path, RuleSet], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A language's stemmed keys are built with the rules (at start and at each reload), so the first
    # document in a language is matched as fast as the next: matching stems no term.
    directory, first = loaded
    old = Matcher(first.rules)  # no word forms yet: a reload adds the first
    edit(directory / "e.yaml", "id: e\ntitle: E\nwhen: {all: [{term: Gesandter, forms: true}, Kiew]}\n")
    updated = old.updated(load_rules(directory, previous=first).rules)
    fresh = Matcher(load_rules(directory).rules)

    def no_stemming(texts: object, language: str) -> object:
        raise AssertionError(f"terms stemmed while matching: {texts!r} ({language})")

    monkeypatch.setattr("monitor.rules.matcher.terms_stems", no_stemming)
    doc = Document(id="1", title="", text="Die Gesandten reisten nach Kiew.", language="de")
    for matcher in (updated, fresh):
        assert [m.rule.id for m in matcher.match(doc)] == ["e"]
        assert [h.text for h in matcher.match(doc)[0].hits] == ["Gesandten", "Kiew"]
