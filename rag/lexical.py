"""The lexical index: BM25 over the Arabic analyser's terms, kept in SQLite beside Chroma.

One SQLite file holds, for every chunk in the vector store, its text and metadata (the
catalog `rag sources` and ingest read), its analysed terms in an FTS5 table (BM25 is built
into FTS5), the consonant skeletons of those terms (whose document frequencies weigh a
question's focus, see rag.answerability), and the embeddings of its sentences, computed at
ingest so that choosing a question's passages embeds nothing but the question. It opens in milliseconds at any size and changes
in transactions, chunk by chunk, so nothing is rebuilt when an article is added.

It mirrors Chroma and never decides anything on its own: every write to the vector store
stamps the collection with a new revision, and the same revision is committed here with the
matching rows. A lexical index whose revision differs from the collection's (a crash between
the two writes, or another process or machine writing to a shared `chroma run` server) is
brought back in line from Chroma's chunk ids before it is used (rag.store.ChunkStore.sync).
"""
from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag.term_rows import TermRows
from rag.types import Chunk

# Bump when rag.arabic.analyze or answerability.skeleton changes what a text is indexed as,
# or when the tables change: an index built by another version is rebuilt from Chroma.
# 2: chunks record their place in their article (number, article_chunks).
ANALYSER_VERSION = "2"
UNSYNCED = "unsynced"  # the revision of an index that has never mirrored a collection
# A query term in more than this share of the chunks, and in more than MIN_COMMON of them,
# is left out of a BM25 query (see LexicalIndex._worth_scoring).
COMMON_SHARE = 0.1
MIN_COMMON = 2000
# SQLite copies the WAL into the file every 1,000 pages by default: a checkpoint every few writes
# of an ingest, each rewriting the FTS5 pages the writes before it had changed. Every 20,000
# pages (80 MB) a page changed by many writes is copied once; `checkpoint` copies the rest.
WAL_PAGES = 20_000
# FTS5 merges its segments four at a time by default; eight at a time merges less often as
# chunks are added, for slightly more segments to read per query (docs/benchmarks.md).
FTS_AUTOMERGE = 8

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    article_id TEXT NOT NULL,
    headline TEXT NOT NULL,
    text TEXT NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    n_tokens INTEGER NOT NULL,
    number INTEGER NOT NULL,  -- 0, 1, ... in the article
    article_chunks INTEGER NOT NULL,  -- how many chunks the article was cut into
    article_hash TEXT NOT NULL,
    source TEXT NOT NULL,
    ingested_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_article ON chunks (article_id);
-- The analyser's terms, space-separated: the ascii tokenizer splits on spaces only and
-- keeps every non-ASCII letter, so the tokens are exactly the analyser's.
CREATE VIRTUAL TABLE IF NOT EXISTS terms USING fts5 (tokens, tokenize = "ascii tokenchars '.'");
CREATE VIRTUAL TABLE IF NOT EXISTS skeletons USING fts5 (keys, tokenize = "ascii tokenchars '.'", detail = none);
CREATE VIRTUAL TABLE IF NOT EXISTS term_counts USING fts5vocab (terms, 'row');
CREATE VIRTUAL TABLE IF NOT EXISTS skeleton_counts USING fts5vocab (skeletons, 'row');
-- start and end are offsets into the chunk's text; vector is float16
CREATE TABLE IF NOT EXISTS sentence_vectors (
    chunk_rowid INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL, vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS sentence_vectors_by_chunk ON sentence_vectors (chunk_rowid);
"""
_TABLES = ("term_counts", "skeleton_counts", "terms", "skeletons", "sentence_vectors", "chunks")


@dataclass
class ArticleRecord:
    """What the index knows about one ingested article."""

    article_id: str
    headline: str
    article_hash: str  # "mixed" when its chunks come from two versions: the next ingest replaces it
    chunks: int
    ingested_at: float
    source: str
    defect: str = ""  # what is wrong with the stored article ("" when it is whole): the next ingest of it rewrites it

    @property
    def complete(self) -> bool:
        return not self.defect


@dataclass
class PendingWrite:
    """A write to the vector store that has begun and not yet been committed here.

    Recorded before Chroma is touched, cleared by the commit: when the process dies in
    between, ChunkStore.sync finds it and undoes what the write did to Chroma."""

    revision: str  # the collection revision the write stamped
    added: list[str]  # chunk ids the write adds to Chroma
    articles: list[str]  # the articles it adds, replaces or deletes


@dataclass
class StoredChunk:
    """A chunk with the metadata the store keeps beside it."""

    chunk: Chunk
    article_hash: str
    source: str
    ingested_at: float
    # (start, end, embedding) of each sentence, offsets into chunk.text; empty when repaired
    # from Chroma, which does not keep them: those sentences are embedded when first needed
    sentences: list[tuple[int, int, np.ndarray]] = field(default_factory=list)
    number: int = 0  # the chunk's place in its article, counting from 0
    article_chunks: int = 1  # how many chunks the article was cut into


def _defect(mixed: bool, count: int, least_of: int, most_of: int, numbers: int, first: int, last: int, unembedded: int) -> str:
    """What is wrong with an article's chunks, from their numbers and counts ("" when nothing is)."""
    if mixed:
        return "its chunks come from two versions of the article"
    if not (least_of == most_of == count == numbers and first == 0 and last == count - 1):
        return f"{count} chunks stored (numbered {first} to {last}) of the {most_of} it was cut into"
    if unembedded:
        return f"{unembedded} of its {count} chunks have no sentence vectors"
    return ""


@dataclass
class _Counts:
    """Chunk counts of one revision of the index."""

    revision: str | None = None
    documents: int | None = None
    terms: dict[tuple[str, str], int] = field(default_factory=dict)  # (fts5vocab table, term) -> chunks


class LexicalIndex:
    """The SQLite mirror of the vector store: catalog, BM25 terms and term statistics."""

    def __init__(self, path: Path | str):
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by the UI's worker threads, serialised by a lock.
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.execute(f"PRAGMA wal_autocheckpoint = {WAL_PAGES}")
            self._db.executescript(_SCHEMA)
            if self._meta("analyser") != ANALYSER_VERSION:
                self._clear()
            self._merge_less_often()
        self._counts = _Counts()

    # --- writing -----------------------------------------------------------

    def begin(self, pending: PendingWrite) -> None:
        """Record a write to the vector store before it starts; `write` commits it."""
        with self._lock, self._transaction():
            self._set_meta("pending", json.dumps(pending.__dict__))

    def write(self, added: Iterable[StoredChunk], removed_ids: Iterable[str], revision: str,
              rows: TermRows | None = None) -> None:
        """Add and remove chunks and record the collection revision they bring us to: all or nothing.

        A chunk already here is written again (with the sentence vectors it now brings).
        `rows` are the added chunks' terms, when their analysis was started before (rag.term_rows)."""
        added = list(added)
        terms = (rows or TermRows([stored.chunk for stored in added])).result()
        if len(terms) != len(added):
            raise ValueError(f"{len(terms)} term rows for {len(added)} chunks")
        sentences = [(i, start, end, vector) for i, stored in enumerate(added) for start, end, vector in stored.sentences]
        sentence_vectors = np.asarray([vector for *_, vector in sentences], dtype=np.float16)
        with self._lock, self._transaction():
            self._delete([*removed_ids, *(stored.chunk.id for stored in added)])
            first = self._db.execute("SELECT COALESCE(MAX(rowid), 0) + 1 FROM chunks").fetchone()[0]
            self._db.executemany(
                "INSERT INTO chunks (rowid, id, article_id, headline, text, start, end, n_tokens, number, article_chunks,"
                " article_hash, source, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(first + i, s.chunk.id, s.chunk.article_id, s.chunk.headline, s.chunk.text, s.chunk.start, s.chunk.end,
                  s.chunk.n_tokens, s.number, s.article_chunks, s.article_hash, s.source, s.ingested_at)
                 for i, s in enumerate(added)],
            )
            self._db.executemany("INSERT INTO terms (rowid, tokens) VALUES (?, ?)",
                                 [(first + i, tokens) for i, (tokens, _) in enumerate(terms)])
            self._db.executemany("INSERT INTO skeletons (rowid, keys) VALUES (?, ?)",
                                 [(first + i, keys) for i, (_, keys) in enumerate(terms)])
            self._db.executemany(
                "INSERT INTO sentence_vectors (chunk_rowid, start, end, vector) VALUES (?, ?, ?, ?)",
                [(first + i, start, end, row.tobytes()) for (i, start, end, _), row in zip(sentences, sentence_vectors)],
            )
            self._set_meta("revision", revision)
            self._db.execute("DELETE FROM meta WHERE key = 'pending'")
            self._counts = _Counts()

    def _merge_less_often(self) -> None:
        """Set FTS5's automerge on the two full-text tables, once: it is kept in the file."""
        for table in ("terms", "skeletons"):
            if self._db.execute(f"SELECT 1 FROM {table}_config WHERE k = 'automerge'").fetchone() is None:
                self._db.execute(f"INSERT INTO {table} ({table}, rank) VALUES ('automerge', {FTS_AUTOMERGE})")

    def checkpoint(self) -> None:
        """Copy what the WAL holds into the file now (SQLite would at WAL_PAGES, or on closing)."""
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _delete(self, ids: list[str]) -> None:
        for start in range(0, len(ids), 500):
            page = ids[start : start + 500]
            marks = ",".join("?" * len(page))
            rowids = [row[0] for row in self._db.execute(f"SELECT rowid FROM chunks WHERE id IN ({marks})", page)]
            if rowids:
                marks = ",".join("?" * len(rowids))
                for table in ("chunks", "terms", "skeletons"):
                    self._db.execute(f"DELETE FROM {table} WHERE rowid IN ({marks})", rowids)
                self._db.execute(f"DELETE FROM sentence_vectors WHERE chunk_rowid IN ({marks})", rowids)

    def _clear(self) -> None:
        """Start again empty with the current tables; the next sync fills them from Chroma."""
        with self._transaction():
            for table in _TABLES:
                self._db.execute(f"DROP TABLE IF EXISTS {table}")
            self._set_meta("analyser", ANALYSER_VERSION)
            self._set_meta("revision", UNSYNCED)
        self._db.executescript(_SCHEMA)

    # --- reading -----------------------------------------------------------

    @property
    def revision(self) -> str:
        """The collection revision this index mirrors."""
        with self._lock:
            recorded = self._meta("revision")
        return UNSYNCED if recorded is None else recorded  # "" is a revision: a collection never stamped

    @property
    def pending(self) -> PendingWrite | None:
        """The write to the vector store that began and was not committed, if any."""
        with self._lock:
            recorded = self._meta("pending")
        return PendingWrite(**json.loads(recorded)) if recorded else None

    def ids(self) -> set[str]:
        with self._lock:
            return {row[0] for row in self._db.execute("SELECT id FROM chunks")}

    def article_chunk_ids(self, article_id: str) -> set[str]:
        with self._lock:
            return {row[0] for row in self._db.execute("SELECT id FROM chunks WHERE article_id = ?", (article_id,))}

    def search(self, terms: list[str], depth: int) -> list[Chunk]:
        """The chunks that best match any of the terms, best first (FTS5's BM25)."""
        terms = self._worth_scoring(list(dict.fromkeys(terms)))
        if not terms or depth < 1:
            return []
        query = " OR ".join(f'"{term}"' for term in terms)
        with self._lock:
            rows = self._db.execute(
                "SELECT c.id, c.article_id, c.headline, c.text, c.start, c.end, c.n_tokens"
                " FROM (SELECT rowid, rank FROM terms WHERE terms MATCH ? ORDER BY rank LIMIT ?) AS best"
                " JOIN chunks AS c ON c.rowid = best.rowid ORDER BY best.rank, c.rowid",
                (query, depth),
            ).fetchall()
        return [Chunk(*row) for row in rows]

    def _worth_scoring(self, terms: list[str]) -> list[str]:
        """The terms that can change the ranking, without the ones that cost most to score.

        A term in more than a tenth of the chunks weighs little in BM25 (IDF below 2.2, zero
        past half), yet FTS5 scores every chunk that has it: at 100,000 chunks such terms
        made a query ten times slower. In a large index they are left out, unless nothing
        else is left."""
        counts = {term: self._count("term_counts", term) for term in terms}
        common = max(COMMON_SHARE * self.documents, MIN_COMMON)
        known = [term for term in terms if counts[term]]
        worth = [term for term in known if counts[term] <= common]
        return worth or sorted(known, key=counts.get)[:2]

    def chunks(self, ids: list[str]) -> list[Chunk]:
        """The chunks with these ids that exist, in the given order."""
        found: dict[str, Chunk] = {}
        with self._lock:
            for start in range(0, len(ids), 500):
                page = ids[start : start + 500]
                marks = ",".join("?" * len(page))
                for row in self._db.execute(
                    f"SELECT id, article_id, headline, text, start, end, n_tokens FROM chunks WHERE id IN ({marks})", page
                ):
                    found[row[0]] = Chunk(*row)
        return [found[i] for i in ids if i in found]

    def sentence_vectors(self, chunk_ids: list[str]) -> dict[str, np.ndarray]:
        """The stored embeddings of these chunks' sentences, by sentence text."""
        found: dict[str, np.ndarray] = {}
        marks = ",".join("?" * len(chunk_ids))
        with self._lock:
            rows = self._db.execute(
                "SELECT substr(c.text, s.start + 1, s.end - s.start), s.vector FROM sentence_vectors AS s"
                f" JOIN chunks AS c ON c.rowid = s.chunk_rowid WHERE c.id IN ({marks})",
                chunk_ids,
            ).fetchall()
        for text, vector in rows:
            found[text] = np.frombuffer(vector, dtype=np.float16).astype(np.float32)
        return found

    def all_chunks(self) -> list[Chunk]:
        with self._lock:
            rows = self._db.execute("SELECT id, article_id, headline, text, start, end, n_tokens FROM chunks ORDER BY rowid")
            return [Chunk(*row) for row in rows]

    def articles(self) -> list[ArticleRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT article_id, MIN(headline), MIN(article_hash), MAX(article_hash), COUNT(*), MAX(ingested_at), MIN(source),"
                " MIN(article_chunks), MAX(article_chunks), COUNT(DISTINCT number), MIN(number), MAX(number),"
                " SUM(NOT EXISTS (SELECT 1 FROM sentence_vectors AS s WHERE s.chunk_rowid = c.rowid))"
                " FROM chunks AS c GROUP BY article_id ORDER BY article_id"
            ).fetchall()
        return [
            ArticleRecord(
                article_id, headline, low if low == high else "mixed", count, ingested_at, source,
                _defect(low != high, count, *numbering),
            )
            for article_id, headline, low, high, count, ingested_at, source, *numbering in rows
        ]

    # --- statistics: what rag.answerability weighs terms by -----------------

    @property
    def documents(self) -> int:
        """How many chunks are indexed."""
        with self._lock:
            counts = self._current_counts()
            if counts.documents is None:
                counts.documents = self._db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
            return counts.documents

    def frequency(self, key: str) -> int:
        """How many chunks use a term with this skeleton."""
        return self._count("skeleton_counts", key)

    def _count(self, table: str, term: str) -> int:
        """How many chunks hold `term`, from an fts5vocab table. FTS5 counts them by walking the
        term's postings (15 ms for a term in 95,000 of 100,000 chunks), so each count is kept
        until the index changes."""
        with self._lock:
            counts = self._current_counts()
            key = (table, term)
            if key not in counts.terms:
                row = self._db.execute(f"SELECT doc FROM {table} WHERE term = ?", (term,)).fetchone()
                counts.terms[key] = row[0] if row else 0
            return counts.terms[key]

    def _current_counts(self) -> _Counts:
        """The kept counts, forgotten when the index is at another revision (another process wrote)."""
        revision = self._meta("revision")
        if revision != self._counts.revision:
            self._counts = _Counts(revision)
        return self._counts

    # --- plumbing ------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    @contextmanager
    def _transaction(self):
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK when the block raises (BaseException too: a kill)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
