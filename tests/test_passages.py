"""Passage selection: which sentences of the retrieved chunks the model reads."""
from __future__ import annotations

from rag.passages import select_passages
from rag.types import Chunk, Hit


def test_a_sentence_that_repeats_another_s_words_or_is_only_its_article_s_title_is_no_passage(seeded_pipeline):
    question = "من هو حمزة بن عبد المطلب؟"
    definition = "حمزة بن عبد المطلب صحابي من صحابة رسول الإسلام محمد، وعمه وأخوه من الرضاعة."
    burial = "ودفن حمزة وابن أخته عبد الله بن جحش في قبر واحد."
    paragraphs = [f"حمزة بن عبد المطلب\n{definition}", f"حمزة بن عبد المطلب\n{burial}", f"حمزة بن عبد المطلب\n{definition}"]
    hits = [Hit(Chunk(f"c{i}", f"a{i}", "حمزة بن عبد المطلب", text, 0, len(text), 0), 1.0 - i / 10) for i, text in enumerate(paragraphs)]
    vector = seeded_pipeline.embedder.embed_queries([question])[0]
    passages = select_passages(question, vector, hits, seeded_pipeline.sentence_vectors, 1000)
    assert sorted(p.text for p in passages) == sorted([definition, burial])
