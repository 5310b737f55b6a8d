"""Analysis cost: how long the Danish analyser (folding, stop words, the lemmatiser, Snowball)
takes per 1,000 words of text, cold (every cache empty, as a rebuild starts) and warm (the
words seen before, as the indexer mostly meets them), and what loading the lemmatiser's word
list costs. Seconds to run, not minutes; prints its figures and ends with one JSON line.

    .venv/bin/python bench/analysis.py [--words 200000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.search import Corpus  # noqa: E402
from search import index, language  # noqa: E402
from search.index import analysis  # noqa: E402


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _clear() -> None:
    index.stem.cache_clear()
    language.fold.cache_clear()
    analysis._WORD_FORMS.clear()
    if hasattr(language, "lemma"):
        language.lemma.cache_clear()


def _analyse(texts: list[str]) -> float:
    analyzer = index.danish_analyzer()
    started = time.perf_counter()
    for text in texts:
        for _t in analyzer(text):
            pass
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    corpus = Corpus()
    texts, words = [], 0
    while words < args.words:
        text = corpus.text()
        texts.append(text)
        words += len(text.split())
    figures: dict[str, float] = {"words": words}
    rss = _rss_mb()
    started = time.perf_counter()
    if hasattr(language, "lemma_dictionary"):
        language.lemma_dictionary()
    figures["word_list_load_s"] = round(time.perf_counter() - started, 2)
    figures["word_list_rss_mb"] = round(_rss_mb() - rss, 1)
    cold, warm = [], []
    for _run in range(args.runs):  # the best of several runs: the machine is shared
        _clear()
        cold.append(_analyse(texts))
        warm.append(_analyse(texts))
    figures["cold_ms_per_1000_words"] = round(min(cold) / words * 1e6, 2)
    distinct = sorted({language.fold(w) for t in texts for w in analysis._TOKEN_RE.findall(t)})
    per_word = []
    for _run in range(args.runs):  # stemming a word not seen before: what a new word costs
        _clear()
        started = time.perf_counter()
        for w in distinct:
            index.stem(w)
        per_word.append(time.perf_counter() - started)
    figures["distinct_words"] = len(distinct)
    figures["stem_us_per_new_word"] = round(min(per_word) / len(distinct) * 1e6, 2)
    figures["warm_ms_per_1000_words"] = round(min(warm) / words * 1e6, 2)
    for key, value in figures.items():
        print(f"{key:>24}: {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
