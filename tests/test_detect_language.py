"""Language detection: the languages of the European press, short and long, and what it cannot tell."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.document import Document
from monitor.language import LanguageDetector, detect_language
from monitor.pipeline import Pipeline
from monitor.rules.matcher import Matcher
from monitor.store import SQLiteStore

# Headlines and openings written for this test (not copied), one pair per language.
ARTICLES = {
    "en": ("EU weighs a special envoy for Russia", "Diplomats said the bloc would name its envoy before the summit."),
    "fr": ("L'UE envisage un envoyé spécial pour la Russie", "Le choix sera fait avant le sommet."),
    "de": ("EU erwägt einen Sondergesandten für Russland", "Diplomaten sagten, die Wahl solle vor dem Gipfel fallen."),
    "ru": ("ЕС обсуждает назначение спецпосланника", "Дипломаты сообщили, что решение примут до саммита."),
    "it": ("L'UE valuta un inviato speciale per la Russia", "La scelta arriverà prima del vertice."),
    "es": ("La UE estudia un enviado especial para Rusia", "La elección se hará antes de la cumbre."),
    "pl": ("UE rozważa specjalnego wysłannika do Rosji", "Dyplomaci powiedzieli, że wybór nastąpi przed szczytem."),
    "uk": ("ЄС розглядає призначення спецпосланця", "Дипломати повідомили, що рішення ухвалять до саміту."),
}


@pytest.mark.parametrize("lang", sorted(ARTICLES))
def test_detects_each_language_from_title_and_text(lang: str) -> None:
    title, text = ARTICLES[lang]
    assert detect_language(title, text) == lang


@pytest.mark.parametrize("lang", sorted(ARTICLES))
def test_detects_each_language_from_a_headline_alone(lang: str) -> None:
    assert detect_language(ARTICLES[lang][0], "") == lang


@pytest.mark.parametrize("text", ["", "   ", "2026-02-03 12:00", "Putin", "!!! ???"])
def test_says_unknown_when_it_cannot_tell(text: str) -> None:
    assert detect_language("", text) is None


def test_a_long_article_is_read_from_its_start() -> None:
    title, text = ARTICLES["de"]
    assert detect_language(title, (text + "\n") * 5_000) == "de"


def test_a_missing_model_file_is_an_error_naming_it(tmp_path: Path) -> None:
    detector = LanguageDetector(tmp_path / "lid.bin")
    with pytest.raises(FileNotFoundError, match=r"lid\.bin"):
        detector.detect("Some English text here.")


def test_the_pipeline_fills_in_an_unknown_language_and_keeps_a_declared_one() -> None:
    pipeline = Pipeline(Matcher([]), SQLiteStore(":memory:"))
    title, text = ARTICLES["fr"]
    detected = pipeline.process(Document(id="a", title=title, text=text))
    assert detected.doc.language == "fr"
    declared = pipeline.process(Document(id="b", title=title, text=text + " Encore.", language="en"))
    assert declared.doc.language == "en"
