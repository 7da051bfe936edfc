"""Ingestion into a real Chroma: embedded, and a `chroma run` server the test starts."""
import shutil
import socket
import subprocess
import time

import json
import logging

import numpy as np
import pytest
from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.utils import node_to_metadata_dict

from rag.errors import BackendError, StoreError
from rag.integrity import check_index
from rag.store import SAVE_GRAPH_EVERY, TEXT_KEY, ChunkStore

from conftest import ROOT, SEEDS, make_pipeline

SEED_IDS = sorted(p.stem for p in SEEDS.glob("*.txt"))


@pytest.fixture
def seeds_copy(tmp_path):
    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    return folder


def test_seeds_are_ingested_with_their_chunks(tmp_path, seeds_copy):
    pipeline = make_pipeline(tmp_path / "home")
    report = pipeline.ingest([seeds_copy], progress=False)
    assert sorted(report.added) == SEED_IDS and not report.failed
    articles = pipeline.articles()
    assert [a.article_id for a in articles] == SEED_IDS
    assert sum(a.chunks for a in articles) == report.chunks == pipeline.store.count()
    for chunk in pipeline.store.all_chunks():
        assert chunk.n_tokens <= pipeline.settings.chunk_tokens


def test_chunks_are_fetched_by_id(seeded_pipeline):
    some = seeded_pipeline.store.all_chunks()[:3]
    fetched = seeded_pipeline.store.chunks([c.id for c in some] + ["no-such-chunk"])
    assert sorted(fetched, key=lambda c: c.id) == sorted(some, key=lambda c: c.id)
    assert seeded_pipeline.store.chunks([]) == []


def test_ingest_is_incremental(tmp_path, seeds_copy):
    pipeline = make_pipeline(tmp_path / "home")
    pipeline.ingest([seeds_copy], progress=False)
    again = pipeline.ingest([seeds_copy], progress=False)
    assert sorted(again.unchanged) == SEED_IDS and again.chunks == 0

    changed = seeds_copy / "000_413d10f353e81f91.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + "\nوأضاف التقرير أن 500 جندي عادوا إلى بيونغ يانغ.\n", encoding="utf-8")
    (seeds_copy / "004_823c1a8cc44a7092.txt").unlink()
    report = pipeline.ingest([seeds_copy], progress=False)
    assert report.replaced == ["000_413d10f353e81f91"] and report.removed == []
    texts = [c.text for c in pipeline.store.all_chunks() if c.article_id == "000_413d10f353e81f91"]
    assert any("500 جندي عادوا" in t for t in texts)
    assert len({a.article_hash for a in pipeline.articles()}) == 5, "old chunks of the changed article are gone"

    pruned = pipeline.ingest([seeds_copy], prune=True, progress=False)
    assert pruned.removed == ["004_823c1a8cc44a7092"]
    assert "004_823c1a8cc44a7092" not in [a.article_id for a in pipeline.articles()]


def test_a_bad_file_is_refused_and_the_rest_lands(tmp_path, seeds_copy):
    (seeds_copy / "broken.txt").write_bytes(b"\xff\xfe\x00\x01binary")
    (seeds_copy / "empty.txt").write_text("", encoding="utf-8")
    pipeline = make_pipeline(tmp_path / "home")
    report = pipeline.ingest([seeds_copy], progress=False)
    assert sorted(report.added) == SEED_IDS
    assert {p.split("/")[-1] for p, _ in report.failed} == {"broken.txt", "empty.txt"}


def test_an_article_lands_whole_or_not_at_all(tmp_path, seeds_copy, monkeypatch):
    pipeline = make_pipeline(tmp_path / "home")
    pipeline.ingest([seeds_copy], progress=False)
    before = {c.id for c in pipeline.store.all_chunks()}

    changed = seeds_copy / "003_0b40211500770580.txt"
    changed.write_text(changed.read_text(encoding="utf-8").replace("14,000", "15,000"), encoding="utf-8")
    real_add = ChunkStore._add

    def add_then_fail(self, chunks):
        real_add(self, chunks[:2])  # part of the article reaches Chroma, then the write fails
        raise RuntimeError("disk full")

    monkeypatch.setattr(ChunkStore, "_add", add_then_fail)
    report = pipeline.ingest([seeds_copy], progress=False)
    assert [p.split("/")[-1] for p, _ in report.failed] == ["003_0b40211500770580.txt"]
    assert "index is unchanged" in report.failed[0][1]
    assert {c.id for c in pipeline.store.all_chunks()} == before

    monkeypatch.undo()
    assert pipeline.ingest([seeds_copy], progress=False).replaced == ["003_0b40211500770580"]


def test_an_embedder_failure_leaves_the_article_out(tmp_path, seeds_copy):
    """Articles are embedded in batches; the one the embedder fails on is refused, the others land."""
    unlucky = seeds_copy / "002_d4514714ad0830a8.txt"
    unlucky.write_text(unlucky.read_text(encoding="utf-8") + "\nوهذه جملة يتعطل عندها النموذج.\n", encoding="utf-8")
    pipeline = make_pipeline(tmp_path / "home")
    real = pipeline.embedder.embed_passages

    def flaky(texts):
        if any("يتعطل عندها النموذج" in text for text in texts):
            raise BackendError("embedder crashed")
        return real(texts)

    pipeline.embedder.embed_passages = flaky
    report = pipeline.ingest([seeds_copy], progress=False)
    assert len(report.added) == 4 and report.failed == [(str(unlucky), "embedder crashed")]
    assert "002_d4514714ad0830a8" not in [a.article_id for a in pipeline.articles()]


def test_an_index_built_differently_is_refused(tmp_path, seeds_copy):
    make_pipeline(tmp_path / "home").ingest([seeds_copy], progress=False)
    other = make_pipeline(tmp_path / "home", chunk_tokens=120)
    with pytest.raises(StoreError, match=r"chunk_tokens: index has 200, settings say 120.*rag ingest --rebuild"):
        other.articles()
    rebuilt = make_pipeline(tmp_path / "home", chunk_tokens=120)
    assert sorted(rebuilt.ingest([seeds_copy], rebuild=True, progress=False).added) == SEED_IDS
    assert all(c.n_tokens <= 120 for c in rebuilt.store.all_chunks())


def test_an_index_of_the_previous_layout_is_refused_until_rebuilt(tmp_path, seeds_copy):
    """Built before sentence embeddings were stored: answering from it would embed them at every question."""
    pipeline = make_pipeline(tmp_path / "home")
    pipeline.ingest([seeds_copy], progress=False)
    collection = pipeline.store.collection
    collection.modify(metadata={k: v for k, v in collection.metadata.items() if k != "layout" and not k.startswith("hnsw:")})
    with pytest.raises(StoreError, match=r"layout: index has None.*rag ingest --rebuild"):
        make_pipeline(tmp_path / "home").articles()


def test_chroma_keeps_each_chunks_text_in_its_metadata_not_as_a_document(seeded_pipeline):
    """Chroma indexes every document for full-text search, which nothing here uses (the lexical
    index does that work), at half the cost of a write; the text stays in Chroma for repairs."""
    stored = seeded_pipeline.store.collection.get(include=["documents", "metadatas"])
    by_id = {chunk.id: chunk for chunk in seeded_pipeline.store.all_chunks()}
    assert set(stored["documents"]) == {""}
    assert {i: meta[TEXT_KEY] for i, meta in zip(stored["ids"], stored["metadatas"])} == {i: c.text for i, c in by_id.items()}
    [vector] = seeded_pipeline.embedder.embed_queries(["كم عدد الجنود الكوريين الشماليين في روسيا؟"])
    found = seeded_pipeline.store.query(vector, 5)
    assert len(found) == 5 and all(chunk == by_id[chunk.id] for chunk, _ in found)


def test_chunks_are_written_as_llama_index_writes_nodes(seeded_pipeline):
    """The store hands Chroma one array of vectors instead of going through ChromaVectorStore.add,
    and must leave what that `add` would have: the same ids, vectors, metadata and documents."""
    from llama_index.core.schema import TextNode as Node
    from llama_index.vector_stores.chroma import ChromaVectorStore

    ours = seeded_pipeline.store.collection.get(limit=3, include=["documents", "metadatas", "embeddings"])
    client = seeded_pipeline.store.client
    theirs = client.create_collection("written-by-llama-index", embedding_function=None)
    try:
        ChromaVectorStore(chroma_collection=theirs).add([
            # the node's metadata as we wrote it (Chroma's own copy can come back with a float's last digit changed)
            Node(id_=chunk_id, text="", embedding=vector.tolist(), metadata=json.loads(meta["_node_content"])["metadata"])
            for chunk_id, vector, meta in zip(ours["ids"], ours["embeddings"], ours["metadatas"])
        ])
        written = theirs.get(ids=ours["ids"], include=["documents", "metadatas", "embeddings"])
    finally:
        client.delete_collection("written-by-llama-index")
    assert _by_id(written) == _by_id(ours)


def _by_id(got: dict) -> dict:
    """A Chroma `get` result by chunk id (Chroma returns ids in its own order)."""
    return {
        chunk_id: (document, _parsed(meta), vector.tolist())
        for chunk_id, document, meta, vector in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"])
    }


def _parsed(meta: dict) -> dict:
    """Chroma metadata with llama-index's JSON copy of the node read (its keys come in any order)."""
    return {**meta, "_node_content": json.loads(meta["_node_content"])}


def _as_layout_3(collection) -> None:
    """Rewrite an index as layout 3 wrote it: each text as the chunk's Chroma document."""
    stored = collection.get(include=["metadatas", "embeddings"])
    texts, metadatas = [], []
    for meta in stored["metadatas"]:
        meta = {k: v for k, v in meta.items() if not k.startswith("_") and k not in ("doc_id", "document_id", "ref_doc_id")}
        text = meta.pop(TEXT_KEY)
        texts.append(text)
        metadatas.append(node_to_metadata_dict(TextNode(text=text, metadata=meta), remove_text=True, flat_metadata=True))
    collection.update(ids=stored["ids"], embeddings=stored["embeddings"], documents=texts, metadatas=metadatas)
    collection.modify(metadata={**{k: v for k, v in collection.metadata.items() if not k.startswith("hnsw:")}, "layout": 3})


def test_an_index_of_layout_3_is_upgraded_in_place_without_embedding_again(tmp_path, seeds_copy, monkeypatch, caplog):
    pipeline = make_pipeline(tmp_path / "home")
    pipeline.ingest([seeds_copy], progress=False)
    before = {chunk.id: chunk for chunk in pipeline.store.all_chunks()}
    vectors = pipeline.store.collection.get(include=["embeddings"])
    _as_layout_3(pipeline.store.collection)

    monkeypatch.setattr(type(pipeline.embedder), "embed_passages", lambda self, texts: pytest.fail("embedded again"))
    with caplog.at_level(logging.WARNING):
        upgraded = make_pipeline(tmp_path / "home")
        assert upgraded.store.collection.metadata["layout"] == 4
    assert "Upgrading the index" in caplog.text and "nothing is embedded again" in caplog.text
    stored = upgraded.store.collection.get(include=["metadatas", "embeddings"])
    assert {i: meta[TEXT_KEY] for i, meta in zip(stored["ids"], stored["metadatas"])} == {i: c.text for i, c in before.items()}
    kept = dict(zip(vectors["ids"], vectors["embeddings"]))
    assert all(np.allclose(vector, kept[i], atol=1e-6) for i, vector in zip(stored["ids"], stored["embeddings"], strict=True))
    [vector] = upgraded.embedder.embed_queries(["كم عدد الجنود الكوريين الشماليين في روسيا؟"])
    assert all(chunk == before[chunk.id] for chunk, _ in upgraded.store.query(vector, 5))
    assert upgraded.store.sync() is None, "the lexical index still mirrors the collection"
    assert check_index(upgraded.store) == []
    assert upgraded.ingest([seeds_copy], progress=False).unchanged == SEED_IDS


def _graph_saved_every(collection) -> int:
    return collection.configuration["hnsw"]["sync_threshold"]


def test_chroma_saves_the_vector_graph_every_250_vectors_so_a_new_process_has_little_to_replay(tmp_path, seeds_copy):
    pipeline = make_pipeline(tmp_path / "home")
    pipeline.ingest([seeds_copy], progress=False)
    assert _graph_saved_every(pipeline.store.collection) == SAVE_GRAPH_EVERY == 250
    # an index made with Chroma's default (1,000) gets the shorter interval at its next write
    pipeline.store.collection.modify(configuration={"hnsw": {"sync_threshold": 1000}})
    (seeds_copy / "new.txt").write_text("عنوان جديد\nوصل وفد جديد إلى المدينة صباح اليوم.\n", encoding="utf-8")
    reopened = make_pipeline(tmp_path / "home")
    assert _graph_saved_every(reopened.store.collection) == 1000
    reopened.ingest([seeds_copy], progress=False)
    assert _graph_saved_every(make_pipeline(tmp_path / "home").store.collection) == 250


def test_an_unwritable_index_folder_says_what_to_do(tmp_path):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the home folder should be")
    with pytest.raises(StoreError, match="RAG_HOME"):
        make_pipeline(blocked).articles()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path):
    """A real `chroma run` server on loopback, stopped by PID afterwards."""
    port = _free_port()
    chroma = shutil.which("chroma", path=str(ROOT / ".venv" / "bin")) or shutil.which("chroma")
    process = subprocess.Popen(
        [chroma, "run", "--path", str(tmp_path / "server-data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("chroma run did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def test_a_chroma_server_holds_the_same_index(tmp_path, chroma_server):
    pipeline = make_pipeline(tmp_path / "home", chroma_url=chroma_server)
    report = pipeline.ingest([SEEDS], progress=False)
    assert sorted(report.added) == SEED_IDS
    assert not (tmp_path / "home" / "chroma").exists(), "nothing was written to the embedded index"
    fresh = make_pipeline(tmp_path / "other-home", chroma_url=chroma_server)
    assert [a.article_id for a in fresh.articles()] == SEED_IDS
    assert _graph_saved_every(fresh.store.collection) == SAVE_GRAPH_EVERY
    hits = fresh.retrieve("كم عدد الجنود الكوريين الشماليين الذين قتلوا أو أصيبوا؟")
    assert hits and hits[0].chunk.article_id in {"002_d4514714ad0830a8", "003_0b40211500770580", "004_823c1a8cc44a7092"}


def test_an_unreachable_chroma_server_says_what_to_do(tmp_path):
    pipeline = make_pipeline(tmp_path / "home", chroma_url=f"http://127.0.0.1:{_free_port()}")
    with pytest.raises(StoreError, match="chroma run"):
        pipeline.articles()


def test_two_machines_sharing_a_chroma_server_each_see_the_other_s_articles(tmp_path, chroma_server, seeds_copy):
    """Each keeps its own lexical index under its RAG_HOME; a write by one reaches the other's before it answers."""
    first = make_pipeline(tmp_path / "first-home", chroma_url=chroma_server)
    second = make_pipeline(tmp_path / "second-home", chroma_url=chroma_server)
    first.ingest([seeds_copy], progress=False)
    assert second.retrieve("ما البنك الزراعي الذي طالبت روسيا برفع العقوبات عنه Rosselkhozbank؟")[0].chunk.article_id == "004_823c1a8cc44a7092"
    assert second.retriever.lexical("Rosselkhozbank", depth=3)[0].article_id == "004_823c1a8cc44a7092"

    second.remove_article("004_823c1a8cc44a7092")
    assert "004_823c1a8cc44a7092" not in [hit.chunk.article_id for hit in first.retrieve("ما البنك الزراعي الذي طالبت روسيا برفع العقوبات عنه Rosselkhozbank؟")]
    assert list((tmp_path / "second-home" / "lexical").glob("127.0.0.1_*-articles.sqlite"))
