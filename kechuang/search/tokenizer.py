"""Chinese tokenization for matching and search.

`tokenize(text)` gives the terms a text is matched on, in order, with repeats (term frequency counts):

1. NFKC (full-width letters, digits and punctuation become half-width) and case-folding, on at most MAX_CHARS
   characters (a very long text is cut there: matching needs its vocabulary, not all of it);
2. ASCII runs are terms of their own, kept whole: "5G", "AI", "IGBT", "PM2.5", "5G-A", "C++" (letters, digits and
   the joiners . - + inside); pure numbers ("2026", "28.1") and single letters are dropped;
3. everything else is segmented by jieba in precise mode (HMM on) with the domain dictionary (dictionary.txt,
   several hundred technology terms, each given a frequency of at least DOMAIN_FREQ, so 集成电路, 碳化硅,
   锂离子电池, 工业互联网 stay whole even inside a sentence); a word of three or more
   characters also yields its search-mode sub-words: every shorter piece (2 characters up to its length − 1)
   that the dictionary knows, so "碳化硅功率器件" → 碳化硅、功率器件 plus 碳化、功率、器件, and a demand that says
   "功率器件" meets an achievement that says "碳化硅功率器件";
4. punctuation, spaces and the stop words (stopwords.txt: function words and the words every posting uses, such
   as 需求、合作、公司) are dropped.

jieba is imported here only, with its `pkg_resources` deprecation warning silenced and its debug log quiet; the
tokenizer is our own `jieba.Tokenizer` (the global one is left alone), initialised once per process on first
use. Its prefix-dictionary cache goes to $JIEBA_CACHE_DIR, else to the system's temporary directory when that is
writable, else to a fresh temporary directory; jieba ships its dictionary, nothing is downloaded.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
import unicodedata
import warnings
from pathlib import Path

with warnings.catch_warnings():
    # jieba 0.42.1 imports pkg_resources, which setuptools deprecates; nothing we can change there.
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import jieba

HERE = Path(__file__).resolve().parent
DICTIONARY = HERE / "dictionary.txt"
STOPWORDS_FILE = HERE / "stopwords.txt"

# Bump when the tokenization changes: stored tokens of another version are computed again on the next rebuild.
VERSION = 1
MAX_CHARS = 20_000  # characters of a text that are tokenized
MIN_QUERY_CHARS = 2
MAX_QUERY_CHARS = 500
MAX_SUB_WORD = 8  # longest sub-word looked up inside a long word
SUB_WORD_MIN_FREQ = 30
# The frequency a dictionary term gets at least (jieba's suggestion only makes the term win when it stands
# alone; in a sentence, 液冷 at 12 loses to 冷热 at 96: "电池簇液冷热管理" → 簇液、冷热、管理).
DOMAIN_FREQ = 1000

ASCII_TERM = re.compile(r"[a-z0-9](?:[a-z0-9.+\-]*[a-z0-9+])?")
NUMBER = re.compile(r"[0-9.\-+]+")
# Letters and digits of the scripts we segment: CJK unified ideographs (with extension A) and ASCII.
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
SPLIT = re.compile(r"([a-z0-9](?:[a-z0-9.+\-]*[a-z0-9+])?|[\u3400-\u4dbf\u4e00-\u9fff]+)")
KEYWORD_SEPARATORS = re.compile(r"[、，,；;/|\s]+")

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
_stopwords: frozenset[str] | None = None
_domain: frozenset[str] | None = None


def _lines(path: Path) -> list[str]:
    return [
        line.strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def dictionary_terms() -> list[str]:
    """The domain dictionary's terms, normalised as texts are (NFKC, case-folded), in file order."""
    return list(dict.fromkeys(normalise(term) for term in _lines(DICTIONARY)))


def stopwords() -> frozenset[str]:
    global _stopwords
    if _stopwords is None:
        _stopwords = frozenset(normalise(word) for word in _lines(STOPWORDS_FILE))
    return _stopwords


def _cache_dir() -> str:
    for candidate in (os.environ.get("JIEBA_CACHE_DIR"), tempfile.gettempdir()):
        if candidate:
            try:
                os.makedirs(candidate, exist_ok=True)
            except OSError:
                continue
            if os.access(candidate, os.W_OK):
                return candidate
    return tempfile.mkdtemp(prefix="kechuang-jieba-")


def _jieba() -> jieba.Tokenizer:
    """Our jieba tokenizer with the domain dictionary, built once per process."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.tmp_dir = _cache_dir()
                tokenizer.initialize()
                terms = dictionary_terms()
                for term in terms:
                    if HAN.search(term):  # ASCII terms are found by ASCII_TERM, not jieba
                        freq = max(tokenizer.suggest_freq(term, False), DOMAIN_FREQ)
                        tokenizer.add_word(term, freq)
                global _domain
                _domain = frozenset(terms)
                _tokenizer = tokenizer
    return _tokenizer


def warm_up() -> None:
    """Load jieba and the dictionaries now (about a second), rather than on the first query."""
    _jieba()
    stopwords()


def normalise(text: str) -> str:
    """NFKC, then case-folded."""
    return unicodedata.normalize("NFKC", text or "").casefold()


def _sub_words(word: str, freq: dict, domain: frozenset[str]) -> list[str]:
    """The words inside `word` (2 to MAX_SUB_WORD characters, shorter than it), by position then length: terms of
    the domain dictionary, and jieba's words at least SUB_WORD_MIN_FREQ frequent (rarer entries of its dictionary
    are fragments such as 成电 in 集成电路)."""
    n = len(word)
    found = []
    for i in range(n - 1):
        for j in range(i + 2, min(n, i + MAX_SUB_WORD) + 1):
            piece = word[i:j]
            if j - i < n and (piece in domain or freq.get(piece, 0) >= SUB_WORD_MIN_FREQ):
                found.append(piece)
    return found


def tokenize(text: str) -> list[str]:
    """The terms of `text`, in order, with repeats (see the module's docstring)."""
    text = normalise(text[:MAX_CHARS] if text else "")
    if not text:
        return []
    stop = stopwords()
    segmenter = _jieba()
    freq, domain = segmenter.FREQ, _domain or frozenset()
    terms: list[str] = []
    for piece in SPLIT.findall(text):
        if piece[0].isascii():
            # pure numbers and single letters ("10℃" → "10°c" → c) say nothing
            if len(piece) > 1 and not NUMBER.fullmatch(piece) and piece not in stop:
                terms.append(piece)
            continue
        for word in segmenter.cut(piece, HMM=True):
            if word in stop:
                continue
            terms.append(word)
            if len(word) > 2:
                terms.extend(w for w in _sub_words(word, freq, domain) if w not in stop)
    return terms


def keyword_list(text: str) -> list[str]:
    """The keywords of a 关键词 text, in order, without repeats (split on 、，,；; / | and spaces; normalised)."""
    return list(dict.fromkeys(k for k in KEYWORD_SEPARATORS.split(normalise(text)) if k))


def document_tokens(title: str, keywords: str, text: str) -> dict:
    """The tokens a posting is indexed on: {"title": [...], "keywords": [...], "text": [...], "v": VERSION}."""
    return {
        "title": tokenize(title),
        "keywords": tokenize("、".join(keyword_list(keywords))),
        "text": tokenize(text),
        "v": VERSION,
    }


def visible_length(text: str) -> int:
    """How many letters, digits and ideographs a query has (spaces and punctuation not counted)."""
    return sum(1 for ch in normalise(text) if ch.isalnum())
