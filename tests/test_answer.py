"""Answers: the model's JSON is parsed as it streams, rendered with [n], and checked."""
import json

import pytest

from rag.draft import parse_draft, render, restates_question, strip_passage_references
from rag.prompt import answer_schema
from rag.clean import clean_article
from rag.load import read_article
from rag.pipeline import Pipeline
from rag.types import SUPPORTED

from conftest import SEEDS

QUESTION_4000 = "كم عدد الجنود الكوريين الشماليين الذين قتلوا أو أصيبوا؟"
ARTICLES_STATING_4000 = {"002_d4514714ad0830a8", "003_0b40211500770580", "004_823c1a8cc44a7092"}


def test_a_streamed_json_answer_yields_sentences_as_they_complete():
    full = json.dumps(
        {"found": True, "sentences": [{"text": "قُتل أو أصيب نحو 4 آلاف جندي.", "passages": [1]}, {"text": "وأرسلت 3 آلاف آخرين.", "passages": [2, 3]}]},
        ensure_ascii=False,
    )
    cut = full.index("وأرسلت") + 4
    draft = parse_draft(full[:cut])
    assert draft.found is True
    assert draft.sentences == [("قُتل أو أصيب نحو 4 آلاف جندي.", [1])]
    assert draft.partial == "وأرس"
    done = parse_draft(full)
    assert render(done.sentences) == "قُتل أو أصيب نحو 4 آلاف جندي. [1] وأرسلت 3 آلاف آخرين. [2][3]"


def test_a_cut_off_escape_does_not_break_the_partial_text():
    assert parse_draft('{"found": true, "sentences": [{"text": "a \\"quoted\\" wo\\').partial == 'a "quoted" wo'


def test_the_schema_only_allows_passage_numbers_that_were_shown():
    schema = answer_schema(3)
    items = schema["properties"]["sentences"]["items"]["properties"]["passages"]["items"]
    assert items["enum"] == [1, 2, 3]


def test_the_embedded_model_answers_with_a_supported_citation(seeded_pipeline):
    answer = seeded_pipeline.ask(QUESTION_4000)
    assert not answer.abstained, answer.raw_output
    assert answer.language == "ar"
    assert any(n in answer.text for n in ("4000", "4,000", "4 آلاف", "٤٠٠٠")), answer.text
    supported = [c for s in answer.sentences for c in s.citations if c.supported]
    assert supported
    cited_articles = {p.article_id for p in answer.passages if p.number in {c.passage for c in supported}}
    assert cited_articles & ARTICLES_STATING_4000
    for passage in answer.cited_passages:
        article = clean_article(read_article(SEEDS / f"{passage.article_id}.txt"))
        assert article.text[passage.start : passage.end] == passage.text
    assert answer.usage["prompt_tokens"] > 0 and answer.timings["total_s"] > 0


@pytest.mark.slow
@pytest.mark.parametrize(
    "question, expected, gold",
    [
        ("كم صاروخاً من طراز ستورم شادو استهدف مقر القيادة في قرية مارينو؟", "12", {"001_d287910d6ae0b8d5"}),
        ("How many North Korean soldiers were killed or wounded?", "4", ARTICLES_STATING_4000),
        ("كم جندياً أمريكياً يتمركز بشكل دائم في كوريا الجنوبية؟", "25", {"004_823c1a8cc44a7092"}),
    ],
)
def test_more_real_questions_end_to_end(seeded_pipeline, question, expected, gold):
    answer = seeded_pipeline.ask(question)
    assert not answer.abstained, answer.raw_output
    assert expected in answer.text
    supported = {c.passage for s in answer.sentences for c in s.citations if c.supported}
    assert {p.article_id for p in answer.passages if p.number in supported} & gold


def test_a_question_the_articles_do_not_answer_is_declined(seeded_pipeline):
    answer = seeded_pipeline.ask("من فاز بكأس العالم لكرة القدم 2022؟")
    assert answer.abstained
    assert answer.text == "لا تذكر المقالات «فاز»، «بكأس»، «العالم»."
    assert answer.sentences == []


def test_streaming_shows_growing_text_before_the_checked_answer(seeded_pipeline):
    updates = list(seeded_pipeline.ask_stream("متى أعلنت وكالة الأنباء المركزية الكورية رسمياً قرار نشر القوات؟"))
    drafts = [u for u in updates if u.answer is None]
    assert len(drafts) > 3
    assert updates[-1].answer is not None
    assert all(s.verdict in (SUPPORTED, "unsupported", "uncited") for s in updates[-1].answer.sentences)


class ScriptedChatModel:
    """Writes the same JSON reply to every prompt, a few characters at a time, and keeps the prompts."""

    name = "scripted"

    def __init__(self, reply: str):
        self.reply = reply
        self.prompts = []

    def stream(self, messages, *, schema=None, max_tokens=512, usage=None):
        self.prompts.append(messages[-1].content)
        for start in range(0, len(self.reply), 8):
            yield self.reply[start : start + 8]

    def status(self):
        return f"{self.name}: ready"


def scripted_pipeline(seeded_pipeline, reply: str) -> Pipeline:
    """The seeded index and embedder, with a scripted chat model."""
    pipeline = Pipeline(seeded_pipeline.settings, chat_model=ScriptedChatModel(reply), embedder=seeded_pipeline.embedder)
    pipeline._store, pipeline._retriever = seeded_pipeline.store, seeded_pipeline.retriever
    return pipeline


def test_the_passages_being_read_are_streamed_first_before_the_model_is_asked(seeded_pipeline):
    reply = {"found": True, "sentences": [{"text": "قُتل أو أصيب نحو 4000 جندي كوري شمالي.", "passages": [1]}]}
    pipeline = scripted_pipeline(seeded_pipeline, json.dumps(reply, ensure_ascii=False))
    updates = pipeline.ask_stream(QUESTION_4000)

    first = next(updates)
    assert first.passages and first.text == "" and first.answer is None
    assert pipeline.chat_model.prompts == [], "the passages are shown before the model is asked"
    rest = list(updates)
    prompt = pipeline.chat_model.prompts[0]
    assert all(f'<passage id="{p.number}">{p.text}</passage>' in prompt for p in first.passages), "the passages the model reads"
    assert rest[0].text and all(u.passages is None for u in rest)
    assert rest[-1].answer.passages[: len(first.passages)] == first.passages


def test_a_question_declined_before_the_model_is_asked_streams_only_its_answer(seeded_pipeline):
    pipeline = scripted_pipeline(seeded_pipeline, "{}")
    updates = list(pipeline.ask_stream("من فاز بكأس العالم لكرة القدم 2022؟"))
    assert [u.answer.abstained for u in updates] == [True]
    assert pipeline.chat_model.prompts == []


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        (
            "Based on the information provided in Passage 1, there are 25,000 American troops in South Korea.",
            ("There are 25,000 American troops in South Korea.", [1]),
        ),
        ("According to passages 2 and 3, the talks failed.", ("The talks failed.", [2, 3])),
        ("المقاطع: [1] بدأت التقارير تتحدث منذ الخريف الماضي.", ("بدأت التقارير تتحدث منذ الخريف الماضي.", [1])),
        ("وفقاً للمقطع 2، أرسلت كوريا 14 ألف جندي.", ("أرسلت كوريا 14 ألف جندي.", [2])),
        ("Troops arrived (passage 2) and more came.", ("Troops arrived and more came.", [2])),
        ("أرسلت كوريا 14 ألف جندي [1، 2].", ("أرسلت كوريا 14 ألف جندي.", [1, 2])),
        ("نشرت مقاطع فيديو 3 مرات.", ("نشرت مقاطع فيديو 3 مرات.", [])),
        ("The passage is narrow.", ("The passage is narrow.", [])),
    ],
)
def test_passage_references_written_into_a_sentence_become_citations(written, expected):
    assert strip_passage_references(written) == expected
    draft = parse_draft(json.dumps({"found": True, "sentences": [{"text": written, "passages": [4]}]}, ensure_ascii=False))
    assert draft.sentences == [(expected[0], list(dict.fromkeys([4, *expected[1]])))]


KIM_VISIT = "في أي تاريخ سيزور كيم جونغ أون موسكو؟"
SENT_MONTHS_AGO = "كم جندياً قيل إن بيونغ يانغ أرسلتهم قبل أشهر إلى روسيا؟"


@pytest.mark.parametrize(
    ("sentence", "question", "restates"),
    [
        (KIM_VISIT, KIM_VISIT, True),
        ("بيونغ يانغ أرسلتهم قبل أشهر", SENT_MONTHS_AGO, True),
        ("أرسلت بيونغ يانغ 11 ألف جندي قبل أشهر", SENT_MONTHS_AGO, False),  # a new number
        ("بيونغ يانغ أرسلتهم إلى كورسك قبل أشهر", SENT_MONTHS_AGO, False),  # a new word
        ("The visit date was not given.", "When will Kim visit Moscow?", False),
        ("Kim will visit Moscow.", "When will Kim visit Moscow?", True),
    ],
)
def test_a_sentence_that_adds_nothing_to_the_question_restates_it(sentence, question, restates):
    assert restates_question(sentence, question) is restates
