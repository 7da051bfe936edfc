"""The lexical index in SQLite: it persists, opens without reading Chroma, and is repaired
from Chroma, never used silently, when the two disagree."""
import logging

import pytest

import rag.lexical
from rag.arabic import analyze, skeleton
from rag.lexical import LexicalIndex, StoredChunk
from rag.store import ChunkStore
from rag.types import Chunk

from conftest import SEEDS, make_pipeline

ROSSELKHOZBANK = "Rosselkhozbank"  # named in Latin letters in one article only
A004 = "004_823c1a8cc44a7092"


def _chunk(i: int, text: str, article: str = "a") -> StoredChunk:
    return StoredChunk(Chunk(f"c{i}", article, "headline", text, i * 100, i * 100 + len(text), 5), "hash", "src", 0.0)


def test_bm25_ranks_the_chunk_with_the_rare_term_first():
    index = LexicalIndex(":memory:")
    index.write(
        [_chunk(0, "أرسلت كوريا الشمالية قوات إلى روسيا"), _chunk(1, "طالبت روسيا برفع العقوبات عن روسلخوزبنك"),
         _chunk(2, "روسيا وأوكرانيا تتفاوضان")],
        [], revision="r1",
    )
    assert [c.id for c in index.search(analyze("روسيا روسلخوزبنك"), depth=3)][0] == "c1"
    assert index.search(analyze("باريس"), depth=3) == []
    assert index.documents == 3 and index.revision == "r1"


def test_a_write_is_all_or_nothing():
    index = LexicalIndex(":memory:")
    index.write([_chunk(0, "نص أول")], [], revision="r1")
    with pytest.raises(AttributeError):  # the second item is no chunk: the first must not land either
        index.write([_chunk(1, "نص ثان"), "not a chunk"], ["c0"], revision="r2")
    assert index.ids() == {"c0"} and index.revision == "r1"


def test_an_ingest_ends_with_the_wal_copied_into_the_file(tmp_path):
    index = LexicalIndex(tmp_path / "lexical.sqlite")
    before = (tmp_path / "lexical.sqlite").stat().st_size
    index.write([_chunk(i, f"نص رقم {i} عن روسيا وكوريا الشمالية") for i in range(200)], [], revision="r1")
    assert (tmp_path / "lexical.sqlite").stat().st_size == before  # fewer pages than WAL_PAGES: all in the WAL
    index.checkpoint()
    assert (tmp_path / "lexical.sqlite").stat().st_size > before
    assert LexicalIndex(tmp_path / "lexical.sqlite").ids() == {f"c{i}" for i in range(200)}


def test_fts5_merges_eight_segments_at_a_time_in_new_and_older_indexes(tmp_path):
    def automerge(index):
        return [index._db.execute(f"SELECT v FROM {t}_config WHERE k = 'automerge'").fetchone() for t in ("terms", "skeletons")]

    index = LexicalIndex(tmp_path / "lexical.sqlite")
    assert automerge(index) == [(rag.lexical.FTS_AUTOMERGE,)] * 2
    for table in ("terms", "skeletons"):  # an index made before the setting
        index._db.execute(f"DELETE FROM {table}_config WHERE k = 'automerge'")
    index.close()
    assert automerge(LexicalIndex(tmp_path / "lexical.sqlite")) == [(rag.lexical.FTS_AUTOMERGE,)] * 2


def test_the_index_persists_and_reopens_without_reading_chroma(tmp_path, monkeypatch):
    make_pipeline(tmp_path / "home").ingest([SEEDS], progress=False)

    def no_full_read(self):
        raise AssertionError("the lexical index was rebuilt from Chroma")

    monkeypatch.setattr(ChunkStore, "_chroma_ids", no_full_read)
    reopened = make_pipeline(tmp_path / "home")
    assert reopened.retriever.lexical(ROSSELKHOZBANK, depth=3)[0].article_id == A004
    assert len(reopened.articles()) == 5


def test_a_crash_between_the_chroma_write_and_the_lexical_write_is_undone(tmp_path, monkeypatch, caplog):
    pipeline = make_pipeline(tmp_path / "home")
    pipeline.ingest([SEEDS], progress=False)
    pipeline.remove_article(A004)

    def crash(self, added, removed_ids, revision, rows=None):
        raise KeyboardInterrupt  # the process dies after Chroma took the article, before SQLite did

    monkeypatch.setattr(LexicalIndex, "write", crash)
    with pytest.raises(KeyboardInterrupt):
        pipeline.ingest([SEEDS], progress=False)
    monkeypatch.undo()

    with caplog.at_level(logging.WARNING):
        reopened = make_pipeline(tmp_path / "home")
        assert A004 not in {a.article_id for a in reopened.articles()}
    assert "interrupted write to the index was undone" in caplog.text
    assert reopened.store.lexical.ids() == reopened.store._chroma_ids()
    assert reopened.ingest([SEEDS], progress=False).added == [A004]
    assert reopened.retriever.lexical(ROSSELKHOZBANK, depth=3)[0].article_id == A004


def test_an_index_built_by_another_analyser_version_is_rebuilt(tmp_path, monkeypatch):
    make_pipeline(tmp_path / "home").ingest([SEEDS], progress=False)
    monkeypatch.setattr(rag.lexical, "ANALYSER_VERSION", "next")
    reopened = make_pipeline(tmp_path / "home")
    assert reopened.retriever.lexical(ROSSELKHOZBANK, depth=3)[0].article_id == A004
    assert reopened.store.lexical.ids() == reopened.store._chroma_ids()


def test_every_sentence_is_embedded_at_ingest(seeded_pipeline):
    import numpy as np

    from rag.arabic import split_sentences

    chunk = seeded_pipeline.store.all_chunks()[3]
    stored = seeded_pipeline.store.sentence_vectors([chunk.id])
    sentences = [chunk.text[start:end] for start, end in split_sentences(chunk.text)]
    assert set(stored) == set(sentences)
    fresh = np.asarray(seeded_pipeline.embedder.embed_passages(sentences[:2]))
    for sentence, vector in zip(sentences, fresh):
        assert float(stored[sentence] @ vector) > 0.999  # float16 on disk, the same vector


def test_choosing_passages_embeds_nothing_but_the_question(seeded_pipeline, monkeypatch):
    from rag.passages import select_passages
    from rag.sentence_vectors import SentenceVectors

    question = "كم صاروخاً من طراز ستورم شادو استهدف مقر القيادة في قرية مارينو؟"
    vector = seeded_pipeline.embedder.embed_queries([question])[0]
    hits = seeded_pipeline.retrieve(question)
    sentence_vectors = SentenceVectors(seeded_pipeline.embedder)
    sentence_vectors.add(seeded_pipeline.store.sentence_vectors([hit.chunk.id for hit in hits]))

    def no_embedding(texts):
        raise AssertionError(f"embedded at question time: {texts}")

    monkeypatch.setattr(seeded_pipeline.embedder, "embed_passages", no_embedding)
    passages = select_passages(question, vector, hits, sentence_vectors, seeded_pipeline.settings.context_tokens)
    assert any("ستورم شادو" in p.text for p in passages)


def test_terms_in_most_chunks_of_a_large_index_are_left_out_of_the_query(monkeypatch):
    monkeypatch.setattr(rag.lexical, "MIN_COMMON", 2)
    index = LexicalIndex(":memory:")
    texts = ["روسيا تقصف", "روسيا تفاوض", "روسيا ترسل", "روسيا وكوريا", "روسلخوزبنك بنك زراعي"]
    index.write([_chunk(i, text) for i, text in enumerate(texts)], [], revision="r1")
    assert index._worth_scoring(analyze("روسيا روسلخوزبنك")) == analyze("روسلخوزبنك")
    assert index._worth_scoring(analyze("روسيا")) == analyze("روسيا"), "a query of common terms keeps them"
    assert index._worth_scoring(analyze("باريس")) == []


def test_a_small_index_scores_every_term():
    index = LexicalIndex(":memory:")
    index.write([_chunk(i, f"روسيا {i}") for i in range(5)], [], revision="r1")
    assert index._worth_scoring(analyze("روسيا")) == analyze("روسيا")


def test_chunk_counts_are_kept_until_the_index_changes_even_by_another_process(tmp_path, monkeypatch):
    path = tmp_path / "articles.sqlite"
    reader, writer = LexicalIndex(path), LexicalIndex(path)  # two processes' views of one file
    writer.write([_chunk(0, "أرسلت كوريا الشمالية قوات إلى روسيا")], [], revision="r1")
    term = analyze("روسيا")[0]
    assert reader.frequency(skeleton(term)) == 1 and reader.documents == 1

    looked_up = []
    monkeypatch.setattr(reader, "_db", _Spy(reader._db, looked_up))
    assert reader.frequency(skeleton(term)) == 1 and reader.documents == 1
    assert not [sql for sql in looked_up if "_counts" in sql or "COUNT(*)" in sql]  # kept, not counted again

    writer.write([_chunk(1, "روسيا وأوكرانيا تتفاوضان")], [], revision="r2")
    assert reader.frequency(skeleton(term)) == 2 and reader.documents == 2
    assert reader._worth_scoring([term]) == [term]


class _Spy:
    """A connection that records the SQL it is given."""

    def __init__(self, db, seen):
        self._db, self._seen = db, seen

    def execute(self, sql, *args):
        self._seen.append(sql)
        return self._db.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._db, name)
