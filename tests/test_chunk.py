import pytest

from rag.chunk import chunk_article, count_tokens
from rag.clean import clean_article
from rag.load import read_article
from rag.types import Article

from conftest import SEEDS

ARTICLES = [clean_article(read_article(p)) for p in sorted(SEEDS.glob("*.txt"))]


@pytest.mark.parametrize("budget", [40, 120, 200, 500])
@pytest.mark.parametrize("article", ARTICLES, ids=lambda a: a.id)
def test_chunks_are_exact_spans_within_budget(article, budget):
    chunks = chunk_article(article, max_tokens=budget, overlap=1)
    assert chunks
    for chunk in chunks:
        assert article.text[chunk.start : chunk.end] == chunk.text
        assert chunk.n_tokens == count_tokens(chunk.text) <= budget
        assert chunk.article_id == article.id and chunk.headline == article.headline


@pytest.mark.parametrize("article", ARTICLES, ids=lambda a: a.id)
def test_chunks_cover_every_sentence(article):
    chunks = chunk_article(article, max_tokens=200, overlap=1)
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.start, chunk.end))
    uncovered = [ch for i, ch in enumerate(article.text) if i not in covered]
    assert "".join(uncovered).strip() == ""


def test_neighbouring_chunks_share_one_sentence():
    article = ARTICLES[3]
    chunks = chunk_article(article, max_tokens=200, overlap=1)
    for before, after in zip(chunks, chunks[1:]):
        assert after.start < before.end, "the next chunk starts inside the previous one"
        shared = article.text[after.start : before.end]
        assert shared.strip().endswith((".", "؟", "!", "?", "”")) or "\n" not in shared


def test_no_overlap_when_asked():
    chunks = chunk_article(ARTICLES[3], max_tokens=200, overlap=0)
    for before, after in zip(chunks, chunks[1:]):
        assert after.start >= before.end


def test_a_sentence_longer_than_the_budget_is_split_on_clauses():
    long_sentence = "، ".join(f"وأضاف المسؤول رقم {i} أن القوات الكورية الشمالية شاركت في المعارك" for i in range(30)) + "."
    article = Article(id="long", headline="عنوان", text=f"عنوان\n{long_sentence}")
    chunks = chunk_article(article, max_tokens=60, overlap=1)
    assert len(chunks) > 5
    assert all(c.n_tokens <= 60 and article.text[c.start : c.end] == c.text for c in chunks)


def test_an_article_of_only_a_headline_gives_one_chunk_and_empty_text_none():
    assert len(chunk_article(Article(id="a", headline="عنوان", text="عنوان"), 200, 1)) == 1
    assert chunk_article(Article(id="b", headline="", text=""), 200, 1) == []


def test_chunk_ids_are_content_hashes():
    first = chunk_article(ARTICLES[0], 200, 1)
    again = chunk_article(ARTICLES[0], 200, 1)
    assert [c.id for c in first] == [c.id for c in again]
    edited = Article(ARTICLES[0].id, ARTICLES[0].headline, ARTICLES[0].text + "\nجملة جديدة.")
    assert not {c.id for c in first} & {c.id for c in chunk_article(edited, 200, 1)}
