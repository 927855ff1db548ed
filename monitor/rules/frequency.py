"""How likely a term is to occur in an article: the presearcher anchors each rule on its rarest terms.

A rule is evaluated only for documents in which one of its anchor terms occurs (see
`matcher._anchors`). Anchoring `all: [said, Kellogg]` on "said" would evaluate the rule for
nearly every article; on "Kellogg", for a few. As Lucene Monitor's presearcher weighs terms by
their frequency in the index, the matcher weighs each term by the share of news articles that
contain its words, from a table of document frequencies (`frequency.tsv`, shipped beside this
module).

The shipped table is counted over the articles in the repository: `seeds/`, the labelled corpus
`rules/tests/corpus/` (news in six languages) and the 46 web pages of the trafilatura test subset
(`tests/data/corpora/trafilatura/tests/cache/`, extracted as the service extracts pages), with

    python -m monitor.rules.frequency seeds rules/tests/corpus tests/data/corpora/trafilatura/tests/cache \
        > monitor/rules/frequency.tsv

one line per folded word found in two documents or more, `word<TAB>documents`, after a header
line `# documents<TAB>N`. A word missing from the table is taken as rare, which it most likely
is. Point it at your own archive of articles for a table that fits your feeds better.
"""

from __future__ import annotations

import functools
import sys
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Mapping
from itertools import accumulate
from pathlib import Path

from monitor.rules.model import Term
from monitor.rules.text import fold, words_of

TABLE = Path(__file__).with_name("frequency.tsv")
# A regex or a word-ending wildcard cannot be looked up: taken as this likely (common enough
# that a rule is anchored on them only when it has nothing better).
UNKNOWN_SHAPE = 0.25
# A term with word forms is taken as this many times as likely as its word alone.
FORMS_LIKELIER = 3


class TermFrequency:
    """Document frequencies of words, and the likelihood of a term that follows from them.

    Args:
        documents: how many documents the counts are over.
        counts: for each folded word, how many of those documents contain it.
    """

    __slots__ = ("_cumulative", "_documents", "_words", "counts")

    def __init__(self, documents: int, counts: Mapping[str, int]) -> None:
        self._documents = max(documents, 1)
        self.counts = dict(counts)
        self._words = sorted(self.counts)
        self._cumulative = [0, *accumulate(self.counts[w] for w in self._words)]

    @classmethod
    def uniform(cls) -> TermFrequency:
        """Every term equally likely: rules are anchored on their fewest terms (the matcher before
        frequencies; kept to measure what they gain)."""
        return _Uniform(1, {})

    @classmethod
    def read(cls, path: Path) -> TermFrequency:
        """A table written by `write` (header `# documents<TAB>N`, then `word<TAB>count` lines)."""
        lines = path.read_text(encoding="utf-8").splitlines()
        documents = int(lines[0].split("\t")[1])
        counts = {word: int(count) for word, count in (line.split("\t") for line in lines[1:] if line)}
        return cls(documents, counts)

    @classmethod
    def of_texts(cls, texts: Iterable[str], minimum: int = 2) -> TermFrequency:
        """Count the documents each word occurs in (words in fewer than `minimum` are left out)."""
        counts: Counter[str] = Counter()
        documents = 0
        for text in texts:
            documents += 1
            counts.update(set(words_of(text)))
        return cls(documents, {w: n for w, n in counts.items() if n >= minimum})

    def write(self) -> str:
        rows = sorted(self.counts.items(), key=lambda wc: (-wc[1], wc[0]))
        return "".join([f"# documents\t{self._documents}\n", *(f"{w}\t{n}\n" for w, n in rows)])

    def word(self, word: str) -> float:
        """The share of documents holding the folded `word` (unseen words: half a document)."""
        return (self.counts.get(word, 0) + 0.5) / (self._documents + 1)

    def prefix(self, prefix: str) -> float:
        """The share of documents holding some word that starts with `prefix` (at most 1)."""
        lo = bisect_left(self._words, prefix)
        hi = bisect_left(self._words, prefix + "\U0010ffff")
        return min(1.0, (self._cumulative[hi] - self._cumulative[lo] + 0.5) / (self._documents + 1))

    def term(self, term: Term) -> float:
        """How likely `term` is to occur in an article: that of its rarest word (a phrase occurs
        no more often than any of its words), a prefix by the words it starts, word forms by a
        few times the word."""
        if term.regex:
            return UNKNOWN_SHAPE
        text = term.text
        if text.isascii() and text.replace(" ", "").isalnum():
            # Plain ASCII words (most terms): their words are the lower-cased chunks (as words_of splits them).
            # The rarest word's share, from its count (the share grows with the count): no call per word.
            counts = self.counts
            fewest = min([counts.get(word, 0) for word in text.lower().split()], default=None)
            rarest = 1.0 if fewest is None else (fewest + 0.5) / (self._documents + 1)
            return min(1.0, FORMS_LIKELIER * rarest if term.forms else rarest)
        best = 1.0
        for chunk in term.text.split():
            core = chunk.strip("*")
            if chunk.startswith("*"):
                likely = UNKNOWN_SHAPE
            elif chunk.endswith("*"):
                likely = self.prefix(fold(core).replace("-", ""))
            else:
                words = words_of(core)
                likely = min((self.word(w) for w in words), default=1.0)
                if term.forms:
                    likely = min(1.0, FORMS_LIKELIER * likely)
            best = min(best, likely)
        return best


class _Uniform(TermFrequency):
    __slots__ = ()

    def term(self, term: Term) -> float:
        return 1.0


@functools.cache
def shipped() -> TermFrequency:
    """The table that ships with monitor (read once)."""
    return TermFrequency.read(TABLE)


def _texts_of(paths: Iterable[Path]) -> Iterable[str]:
    """Title and text of every document replay would read from `paths`."""
    from monitor.ingest.files import read_documents

    def skip(problem: object) -> None:
        print(f"skipped: {problem}", file=sys.stderr)

    for _, doc in read_documents(list(paths), skip):
        yield doc.title + "\n" + doc.text


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python -m monitor.rules.frequency DIR_OR_FILE... > monitor/rules/frequency.tsv")
    sys.stdout.write(TermFrequency.of_texts(_texts_of(Path(p) for p in sys.argv[1:])).write())
