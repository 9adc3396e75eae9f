"""A small offline language guess: writing system first, then stopwords for Latin-script text.

Why not a library: none is a dependency already; langdetect draws at random unless seeded and
takes about a millisecond a text (minutes on 100k events, twice per event); lingua's wheels
carry hundreds of MB of models. The question a check asks is narrower — "is the answer in the
user's language?" — and scripts plus the most frequent function words answer it for the
languages a support assistant usually meets. A text that is too short, mixed, or in a language
not listed here comes back None (unknown), and the check then abstains rather than guesses.
"""

from __future__ import annotations

import re

# Writing systems that name one language (or one we report by script).
_SCRIPTS = (
    ("ja", re.compile(r"[\u3040-\u30ff]")),  # kana: Japanese even when mixed with kanji
    ("ko", re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")),
    ("zh", re.compile(r"[\u4e00-\u9fff]")),
    ("ru", re.compile(r"[\u0400-\u04ff]")),  # Cyrillic, reported as ru (uk/bg/sr look alike)
    ("el", re.compile(r"[\u0370-\u03ff]")),
    ("ar", re.compile(r"[\u0600-\u06ff]")),
    ("he", re.compile(r"[\u0590-\u05ff]")),
    ("hi", re.compile(r"[\u0900-\u097f]")),
    ("th", re.compile(r"[\u0e00-\u0e7f]")),
)
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
# Punctuation and digits become spaces, so str.split gives the words (faster than a regex).
_SPACES = str.maketrans({c: " " for c in ".,!?;:¿¡\"()[]{}<>*#/\\-_=+|~`@$%^&0123456789«»“”„"})

_STOPWORDS = {
    "en": "why when where who does did am it's i'm don't can't today yesterday the and is are was "
          "were you your to of in it that this for with have has not be can will what how do my "
          "me i we they on at or but if from an please thanks there which would should could",
    "fr": "quel quelle quels s'il plaît fait c'est j'ai où quand mais ou très aujourd'hui hier "
          "est-ce n'est le la les des est et vous votre un une du pour pas que qui dans sur avec "
          "ce cette je mon ma mes nous sont au aux il elle ne être avez merci bonjour peux "
          "comment pourquoi",
    "de": "ist warum wann wo wer heute gestern nicht bitte mir mich dich uns ihnen der die das "
          "und ich sie es ein eine zu mit den dem auf für von sind wie was wir ihr mein meine "
          "kann haben danke habe auch noch",
    "es": "por qué cuándo dónde quién hoy ayer también mí tu tú el la los las es y que de en un "
          "una para no con se su mi lo como pero más está son hola gracias cómo puedo tengo usted "
          "porque muy",
    "it": "perché quando dove chi oggi ieri anche sei siamo il lo la gli le è e che di un una per "
          "non con sono mi ti come ma più questo grazie ciao posso ho della del nel",
    "pt": "porque quando onde quem hoje ontem também não o a os as é e que de em um uma para com "
          "se seu sua meu minha como mas mais está são obrigado olá por você posso tenho do da",
    "nl": "waarom wanneer waar wie vandaag gisteren niet mijn jij de het een en is van dat ik je "
          "u met op voor zijn wat hoe kan heb maar ook bedankt er",
    "pl": "i w nie na się jest to że z do co jak mój moja czy dla jestem mam ale dziękuję "
          "dlaczego proszę",
    "sv": "och är att det en ett jag du inte på med för som har min mitt kan hur vad tack varför "
          "vi",
    "tr": "ve bir bu da de için ne ile mi değil ben sen çok nasıl neden var yok teşekkürler benim "
          "lütfen",
}
_WORDS: dict[str, frozenset[str]] = {k: frozenset(v.split()) for k, v in _STOPWORDS.items()}
_INDEX: dict[str, tuple[str, ...]] = {}
for _lang, _words in _WORDS.items():
    for _w in _words:
        _INDEX[_w] = (*_INDEX.get(_w, ()), _lang)

NAMES = {"en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian",
         "pt": "Portuguese", "nl": "Dutch", "pl": "Polish", "sv": "Swedish", "tr": "Turkish",
         "ja": "Japanese", "ko": "Korean", "zh": "Chinese", "ru": "Russian (Cyrillic)",
         "el": "Greek", "ar": "Arabic", "he": "Hebrew", "hi": "Hindi", "th": "Thai"}

MIN_LETTERS = 12
MIN_HITS = 2.0  # weighted function-word hits needed to name a language
MARGIN = 2.0  # and at least this many times the runner-up's
MAX_WORDS = 50


def detect(text: str | None, sample_chars: int = 400) -> str | None:
    """An ISO 639-1 code for the text's language, or None when unsure."""
    if not text:
        return None
    text = text[:sample_chars]
    if not text.isascii():
        letters = len(_LETTER.findall(text))
        if letters < MIN_LETTERS:
            return None
        for code, pattern in _SCRIPTS:
            n = len(pattern.findall(text))
            if n >= max(4, 0.3 * letters):
                return code
    words = text.lower().translate(_SPACES).split()[:MAX_WORDS]
    if sum(map(len, words)) < MIN_LETTERS:
        return None
    # A function word shared by k languages counts 1/k for each: "de" or "a" alone says little.
    scores: dict[str, float] = {}
    for word in words:
        if len(word) < 2:
            continue  # "a", "o", "y", "e": shared, and what typos leave behind
        langs = _INDEX.get(word)
        if langs:
            share = 1.0 / len(langs)
            for lang in langs:
                scores[lang] = scores.get(lang, 0.0) + share
    if not scores:
        return None
    ranked = sorted(scores.values(), reverse=True)
    n1, n2 = ranked[0], (ranked[1] if len(ranked) > 1 else 0.0)
    if n1 < MIN_HITS or n1 < MARGIN * n2:
        return None
    best = max(scores, key=scores.__getitem__)
    return best
