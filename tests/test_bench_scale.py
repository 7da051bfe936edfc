"""`rag bench scale`: synthetic news that looks like news to the index, and a run that reports every figure."""
from collections import Counter

import numpy as np

from rag.arabic import analyze, detect_language
from rag.bench.scale import StandInEmbedder, SyntheticNews, measure_size
from rag.settings import load_settings


def test_synthetic_articles_are_arabic_with_a_long_tail_of_names():
    news = SyntheticNews(seed=1)
    articles = [news.article() for _ in range(200)]
    assert all(detect_language(body) == "ar" for _, body in articles)
    documents = Counter(term for _, body in articles for term in set(analyze(body)))
    rare = sum(1 for count in documents.values() if count <= 2)
    common = sum(1 for count in documents.values() if count >= 100)
    assert rare > 5 * common > 0, "most terms are rare, a few are everywhere, as in news"


def test_the_stand_in_embedder_gives_the_same_unit_vector_for_the_same_text():
    embedder = StandInEmbedder()
    first, again, other = embedder.embed_passages(["نص", "نص", "آخر"])
    assert np.array_equal(first, again) and not np.array_equal(first, other)
    assert abs(np.linalg.norm(first) - 1) < 1e-6 and len(first) == embedder.dimension
    assert "not a model" in embedder.name


def test_a_small_run_reports_ingest_open_retrieval_and_memory():
    settings, _ = load_settings({})
    result = measure_size(300, settings)
    assert result["chunks"] >= 300
    for figure in ("store_chunks_per_s", "bare_chroma_chunks_per_s", "store_over_bare_chroma", "open_s",
                   "reingest_unchanged_ms_per_article", "dense_p95_ms", "lexical_p95_ms", "hybrid_p95_ms",
                   "rss_after_queries_mb", "open_after_sync_s"):
        assert result[figure] > 0, figure
