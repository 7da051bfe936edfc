"""An English question's cues in Arabic text: names transliterated, numbers, months."""
from __future__ import annotations

from rag.english_cues import EnglishCues, rank_by_cues
from rag.chunk import count_tokens
from rag.passages import ENGLISH_ROOM, select_passages
from rag.types import Chunk


def chunk(number: int, text: str) -> Chunk:
    return Chunk(f"chunk-{number}", f"article-{number}", "", text, 0, len(text), 0)


def test_an_english_question_s_cues_are_its_names_numbers_and_months():
    cues = EnglishCues.of("Did Lavrov meet the 2,500 delegates in Tashkent in October?")
    assert cues.names == ("Lavrov", "Tashkent")  # "Did" opens the question; it is no name
    assert cues.numbers == (2500.0,)
    assert cues.months == {10}
    assert len(EnglishCues.of("هل التقى لافروف المندوبين في طشقند؟")) == 0


def test_arabic_text_holds_a_cue_in_its_own_script_and_number_format():
    cues = EnglishCues.of("Did Lavrov meet the 2,500 delegates in Tashkent in October?")
    assert cues.held("التقى وزير الخارجية سيرغي لافروف 2500 مندوب في طشقند في أكتوبر") == [True, True, True, True]
    assert cues.held("وصل الوفد إلى موسكو في مارس") == [False, False, False, False]
    assert cues.share("التقى لافروف الوفد في مارس") == 0.25


def test_a_passage_without_the_question_s_month_or_number_is_about_another_time_or_figure():
    cues = EnglishCues.of("Which agency reported in March 2025 that 3,000 more troops were sent?")
    assert cues.unheld_dates_and_numbers("أفادت وكالة يونهاب في مارس 2025 بإرسال 3 آلاف جندي") == []
    assert cues.unheld_dates_and_numbers("كشفت الوكالة يوم الاثنين 28 أبريل 2025 عن إرسال قوات") == ["3000", "March"]


def test_chunks_are_ranked_by_the_rare_cues_they_hold_and_those_with_none_are_left_out():
    cues = EnglishCues.of("What did Lavrov say in Tashkent?")
    everywhere = [chunk(i, f"قال لافروف إن المحادثات ستستمر {i}") for i in range(4)]
    rare = chunk(9, "وصل الوفد إلى طشقند صباح الأحد وقال لافروف إنه متفائل")
    unrelated = chunk(8, "أعلنت الحكومة موازنة جديدة")
    ranked = rank_by_cues(cues, [*everywhere, unrelated, rare])
    assert ranked[0] == rare
    assert unrelated not in ranked
    assert ranked[1:] == everywhere  # equal scores keep the order they came in
    assert rank_by_cues(EnglishCues.of("كيف حالك؟"), everywhere) == []


def test_an_english_question_naming_someone_reads_the_sentences_that_name_them(seeded_pipeline):
    question = "What did Yonhap report in March 2025?"
    hits = seeded_pipeline.retrieve(question)
    assert any("يونهاب" in hit.chunk.text for hit in hits)
    vector = seeded_pipeline.embedder.embed_queries([question])[0]
    passages = select_passages(question, vector, hits, seeded_pipeline.sentence_vectors, seeded_pipeline.settings.context_tokens)
    assert any("يونهاب" in passage.text for passage in passages)


def test_an_english_question_gets_a_fifth_more_room_for_its_passages(seeded_pipeline):
    budget = 150
    used = {}
    for question in ("كم عدد الجنود الذين أرسلتهم كوريا الشمالية إلى روسيا؟", "How many troops did North Korea send to Russia?"):
        vector = seeded_pipeline.embedder.embed_queries([question])[0]
        passages = select_passages(question, vector, seeded_pipeline.retrieve(question), seeded_pipeline.sentence_vectors, budget)
        used[question[:3]] = sum(count_tokens(p.text) + 4 for p in passages)
    assert used["كم "] <= budget
    assert budget < used["How"] <= budget * ENGLISH_ROOM

