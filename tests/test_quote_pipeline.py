"""The quote answer style through the whole pipeline, with the model's words scripted by the
FAKE Ollama (tests/fake_ollama.py): retrieval, passage selection and every check are real."""
import json
from dataclasses import replace

import pytest

from rag.following import CONTINUATION, DENIAL, LIST
from rag.following import REASONS as FOLLOWING_REASONS
from rag.prompt import ANSWER_WORDS_PATTERN, ENGLISH_SYSTEM, QUOTE_SYSTEM
from rag.quote import CLOSEST_REASON, NAME_IN_ENGLISH, QUOTED_REASON, STATING_REASON, calendar_dates, holds_answer
from rag.relevance import CASUALTIES_TOGETHER

KILLED_OR_WOUNDED = "كم عدد الجنود الكوريين الشماليين الذين قتلوا أو أصيبوا؟"


@pytest.fixture
def pipeline(ollama_pipeline):
    ollama_pipeline.settings = replace(ollama_pipeline.settings, answer_style="quote")
    return ollama_pipeline


def _passages(pipeline, question):
    return next(update.passages for update in pipeline.ask_stream(question) if update.passages)


def _number_of(pipeline, question, needle, fake_ollama):
    """The number of the passage holding `needle`: the passages are shown before the model is asked."""
    number = next(p.number for p in _passages(pipeline, question) if needle in p.text)
    assert not _chats(fake_ollama)
    return number


def _chats(fake_ollama) -> list[dict]:
    return [body for path, body in fake_ollama.requests if path == "/api/chat"]


def test_the_answer_is_the_picked_passage_in_the_article_s_own_words(pipeline, fake_ollama):
    number = _number_of(pipeline, KILLED_OR_WOUNDED, "4,000", fake_ollama)
    fake_ollama.reply_with(json.dumps({"answer": "4,000", "passages": [number]}))
    answer = pipeline.ask(KILLED_OR_WOUNDED)

    (sentence,) = answer.sentences
    passage = next(p for p in answer.passages if p.number == number)
    assert sentence.text == passage.text and "4,000" in sentence.text
    assert [(c.passage, c.supported, c.reason) for c in sentence.citations] == [(number, True, QUOTED_REASON)]
    (chat,) = _chats(fake_ollama)
    assert chat["messages"][0]["content"] == QUOTE_SYSTEM
    assert set(chat["format"]["properties"]) == {"answer", "passages"}
    assert "pattern" not in chat["format"]["properties"]["answer"]  # an Arabic question's answer may quote "Swift"


def test_a_passage_the_copied_words_are_not_in_gives_way_to_the_one_they_are_in(pipeline, fake_ollama):
    passages = _passages(pipeline, KILLED_OR_WOUNDED)
    holding = [p.number for p in passages if holds_answer(p.text, "4,000")]  # "4,000" or "4 آلاف"
    other = next(p.number for p in passages if p.number not in holding)
    fake_ollama.reply_with(json.dumps({"answer": "4,000", "passages": [other]}))
    answer = pipeline.ask(KILLED_OR_WOUNDED)
    assert [c.passage for s in answer.sentences for c in s.citations] == holding[:1]


def test_a_pick_of_no_passage_is_declined(pipeline, fake_ollama):
    fake_ollama.reply_with('{"answer": "", "passages": []}')
    answer = pipeline.ask("كيف كان أداء الجنود الكوريين الشماليين في المعارك؟")
    assert answer.abstained and answer.sentences == []


def test_a_count_the_model_finds_no_passage_for_is_answered_by_the_passage_closest_to_the_question(pipeline, fake_ollama):
    fake_ollama.reply_with('{"answer": "", "passages": []}')
    answer = pipeline.ask(KILLED_OR_WOUNDED)

    (sentence,) = answer.sentences
    assert "4,000" in sentence.text and [c.reason for c in sentence.citations] == [CLOSEST_REASON]


def test_a_count_with_no_passage_about_what_it_counts_is_still_declined_when_the_model_finds_none(pipeline, fake_ollama):
    fake_ollama.reply_with('{"answer": "", "passages": []}')
    answer = pipeline.ask("كم عدد القتلى الذين سقطوا في الهجوم الروسي بالمسيّرات على ميكولايف؟")
    assert answer.abstained and answer.sentences == []


CONFIRMED_IN_STORM_SHADOW_REPORT = "في الخبر المتعلق بضربة صواريخ ستورم شادو، كم جندياً كورياً شمالياً أكدت واشنطن وسيول وجودهم في كورسك؟"


def test_a_figure_copied_from_a_passage_further_from_the_question_gives_way_to_the_closest_one(pipeline, fake_ollama):
    question = CONFIRMED_IN_STORM_SHADOW_REPORT
    ukrainian_estimate = _number_of(pipeline, question, "14000", fake_ollama)
    confirmed = next(p.number for p in _passages(pipeline, question) if "11 ألف" in p.text)
    fake_ollama.reply_with(json.dumps({"answer": "14000", "passages": [ukrainian_estimate]}))
    answer = pipeline.ask(question)

    assert [c.passage for s in answer.sentences for c in s.citations][:1] == [confirmed]
    assert answer.sentences[0].citations[0].reason == CLOSEST_REASON


def test_a_date_question_answered_with_no_date_gets_the_dated_passage_closest_to_it(pipeline, fake_ollama):
    question = "في أي فصل بدأت تظهر التقارير عن وجود جنود كوريين شماليين يقاتلون إلى جانب روسيا؟"
    speculation = _number_of(pipeline, question, "بعد أشهر من التكهنات", fake_ollama)
    fake_ollama.reply_with(json.dumps({"answer": "القسم 4", "passages": [speculation]}))
    answer = pipeline.ask(question)

    (sentence,) = answer.sentences
    assert "منذ الخريف الماضي" in sentence.text and [c.reason for c in sentence.citations] == [CLOSEST_REASON]


def test_how_many_were_killed_is_declined_with_what_the_articles_count_instead(pipeline, fake_ollama):
    killed = "كم عدد الجنود الكوريين الشماليين الذين قُتلوا فعلاً، من دون احتساب الجرحى؟"
    number = _number_of(pipeline, killed, "4,000", fake_ollama)
    fake_ollama.reply_with(json.dumps({"answer": "4,000", "passages": [number]}))
    answer = pipeline.ask(killed)

    assert answer.abstained and answer.sentences == []
    assert answer.text == "تذكر المقالات عدد القتلى والجرحى معاً، لكنها لا تذكر عدد القتلى وحدهم."
    assert [s.withheld for s in answer.withheld] == [CASUALTIES_TOGETHER]


def test_a_claim_is_shown_with_the_denial_that_follows_it_in_its_article(pipeline, fake_ollama):
    question = "هل استعادت روسيا السيطرة الكاملة على منطقة كورسك؟"
    number = _number_of(pipeline, question, "استعادت بالكامل", fake_ollama)
    fake_ollama.reply_with(json.dumps({"answer": "أعلنت روسيا، السبت", "passages": [number]}))
    answer = pipeline.ask(question)

    texts = [s.text for s in answer.sentences]
    claim = next(i for i, text in enumerate(texts) if "استعادت بالكامل" in text)
    denial = answer.sentences[claim + 1]
    assert denial.text == "ونفت السلطات الأوكرانية هذا الادعاء."
    assert [(c.supported, c.reason) for c in denial.citations] == [(True, FOLLOWING_REASONS[DENIAL])]
    assert next(p for p in answer.passages if p.number == denial.citations[0].passage).text == denial.text


def test_an_explanation_is_shown_with_the_sentence_that_continues_it(pipeline, fake_ollama):
    question = "بحسب مستشار الأمن القومي الكوري الجنوبي، ما الذي حصلت عليه بيونغ يانغ من موسكو مقابل جنودها؟"
    number = _number_of(pipeline, question, "صواريخ مضادة للطائرات", fake_ollama)
    fake_ollama.reply_with(json.dumps({"answer": "صواريخ مضادة للطائرات ومعدات دفاع جوي أخرى", "passages": [number]}))
    answer = pipeline.ask(question)

    first, then = answer.sentences[:2]
    assert "صواريخ مضادة للطائرات" in first.text
    assert then.text.startswith("وأضاف مستشار الأمن القومي") and "بالأقمار الصناعية" in then.text
    assert [(c.supported, c.reason) for c in then.citations] == [(True, FOLLOWING_REASONS[CONTINUATION])]


def test_a_name_question_is_shown_with_the_list_that_names_what_its_sentence_only_counts(pipeline, fake_ollama):
    question = "أي مصرف روسي اشترط الكرملين رفع العقوبات عنه قبل سريان وقف الضربات في البحر الأسود؟"
    number = _number_of(pipeline, question, "عدد من البنوك الروسية", fake_ollama)
    fake_ollama.reply_with(json.dumps({"answer": "عدد من البنوك الروسية", "passages": [number]}, ensure_ascii=False))
    answer = pipeline.ask(question)

    first, then = answer.sentences[:2]
    assert "عدد من البنوك الروسية" in first.text
    assert then.text.startswith("وتشمل المطالب") and "Rosselkhozbank" in then.text
    assert [(c.supported, c.reason) for c in then.citations] == [(True, FOLLOWING_REASONS[LIST])]


def test_one_figure_asked_for_is_not_run_on_into_the_next_sentence(pipeline, fake_ollama):
    question = "كم صاروخاً بريطانياً من طراز ستورم شادو استهدف مقر القيادة الكوري الشمالي؟"
    number = _number_of(pipeline, question, "12 صاروخًا", fake_ollama)
    fake_ollama.reply_with(json.dumps({"answer": "12", "passages": [number]}))
    answer = pipeline.ask(question)

    assert any("12 صاروخًا" in s.text for s in answer.sentences)
    assert not any(s.text.startswith("وأشارت شركة") for s in answer.sentences)  # it goes on in its article


LAUNCHERS = "كم وحدة من قاذفات الصواريخ المتعددة أرسلت كوريا الشمالية إلى روسيا؟"


def test_a_figure_cited_to_the_wrong_one_of_two_passages_holding_it_is_shown_from_the_one_that_answers(pipeline, fake_ollama):
    passages = _passages(pipeline, LAUNCHERS)  # 220 howitzers in one article, 220 launchers in another
    howitzers = next(p.number for p in passages if "220 قطعة من مدافع الهاوتزر" in p.text)
    launchers = next(p.number for p in passages if "220 وحدة" in p.text and "قاذفات الصواريخ المتعددة" in p.text)
    fake_ollama.reply_with(json.dumps({"answer": "220", "passages": [howitzers]}))
    answer = pipeline.ask(LAUNCHERS)

    assert [c.passage for s in answer.sentences for c in s.citations] == [launchers]
    (withheld,) = answer.withheld
    assert withheld.citations[0].passage == howitzers and withheld.withheld.startswith("no cited clause gives a number of وحدة")


ENGLISH_QUESTION = "How many North Korean soldiers were killed or wounded?"
COPIED_WITH_WORDS = "4,000 من الجنود الكوريين الشماليين"  # more than a bare figure: the model writes the sentence


def test_an_english_question_gets_one_checked_english_sentence_made_from_the_copied_words(pipeline, fake_ollama):
    number = _number_of(pipeline, ENGLISH_QUESTION, "4,000", fake_ollama)
    fake_ollama.reply_with(json.dumps({"answer": COPIED_WITH_WORDS, "passages": [number]}, ensure_ascii=False))
    fake_ollama.reply_with(json.dumps({"sentence": "About 4, 000 North Korean soldiers were killed or wounded."}))
    answer = pipeline.ask(ENGLISH_QUESTION)

    assert not answer.abstained
    (sentence,) = answer.sentences
    assert sentence.text == "About 4,000 North Korean soldiers were killed or wounded."
    assert sentence.citations[0].passage == number and sentence.citations[0].supported
    pick, english = _chats(fake_ollama)
    assert pick["format"]["properties"]["answer"]["pattern"] == ANSWER_WORDS_PATTERN  # copied in Arabic
    assert english["messages"][0]["content"] == ENGLISH_SYSTEM
    assert f"Answer words: {COPIED_WITH_WORDS}" in english["messages"][-1]["content"]


def test_a_bare_figure_for_an_english_question_is_put_in_english_by_code_without_a_second_call(pipeline, fake_ollama):
    number = _number_of(pipeline, ENGLISH_QUESTION, "4,000", fake_ollama)
    fake_ollama.reply_with(json.dumps({"answer": "4,000", "passages": [number]}))
    answer = pipeline.ask(ENGLISH_QUESTION)

    (sentence,) = answer.sentences
    assert sentence.text == "The cited article gives 4,000."
    assert sentence.citations[0].passage == number and sentence.citations[0].supported
    assert len(_chats(fake_ollama)) == 1


@pytest.mark.parametrize(
    "written, reason",
    [
        ("General Walis said 4,000 North Korean soldiers were killed or wounded.", "name not in passage: Walis"),
        ("About 9,000 North Korean soldiers were killed or wounded.", "number 9000 not in passage"),
        ("حوالي 4,000 جندي قتلوا أو أصيبوا.", "not written in English"),
    ],
)
def test_an_english_sentence_with_a_name_or_number_not_in_the_passage_is_withheld(pipeline, fake_ollama, written, reason):
    number = _number_of(pipeline, ENGLISH_QUESTION, "4,000", fake_ollama)
    fake_ollama.reply_with(json.dumps({"answer": COPIED_WITH_WORDS, "passages": [number]}, ensure_ascii=False))
    fake_ollama.reply_with(json.dumps({"sentence": written}, ensure_ascii=False))
    answer = pipeline.ask(ENGLISH_QUESTION)

    assert answer.abstained and answer.text == "The articles do not give the number asked for."
    (withheld,) = answer.withheld
    assert withheld.text == written and withheld.withheld.startswith(reason)


def test_auto_quotes_with_the_small_embedded_model_and_lets_ollama_write(tmp_path):
    from conftest import make_pipeline

    assert make_pipeline(tmp_path / "a").answer_style == "quote"
    assert make_pipeline(tmp_path / "b", backend="ollama").answer_style == "write"
    assert make_pipeline(tmp_path / "c", backend="ollama", answer_style="quote").answer_style == "quote"


def test_copied_words_that_only_repeat_the_question_are_no_answer(pipeline, fake_ollama):
    number = _number_of(pipeline, KILLED_OR_WOUNDED, "4,000", fake_ollama)
    fake_ollama.reply_with(json.dumps({"answer": "الجنود الكوريين الشماليين", "passages": [number]}, ensure_ascii=False))
    answer = pipeline.ask(KILLED_OR_WOUNDED)
    (withheld,) = answer.withheld
    assert withheld.withheld == "the copied words «الجنود الكوريين الشماليين» only repeat the question"
    # the count is answered by code instead: the passage closest to the question that gives a figure
    (sentence,) = answer.sentences
    assert "4,000" in sentence.text and [c.reason for c in sentence.citations] == [CLOSEST_REASON]



def test_a_bare_figure_for_a_question_that_is_no_count_is_left_to_the_checked_sentence(pipeline, fake_ollama):
    question = "What is the range of the Storm Shadow missiles that struck the command post?"  # no count, no date
    number = _number_of(pipeline, question, "12", fake_ollama)
    fake_ollama.reply_with(json.dumps({"answer": "12", "passages": [number]}))
    fake_ollama.reply_with(json.dumps({"sentence": "The range of the Storm Shadow missiles was 12 kilometers."}))
    answer = pipeline.ask(question)

    assert answer.abstained and len(_chats(fake_ollama)) == 2
    (withheld,) = answer.withheld
    assert withheld.withheld.startswith("adds words that neither the question nor the copied answer has: kilomet")


@pytest.mark.parametrize(
    "question, needle, copied, written, shown",
    [
        # a person: as English text spells the name, not as the model guessed it
        ("Which Russian deputy foreign minister said the two governments were discussing a Kim visit to Moscow?",
         "رودنكو", "أندريه رودنكو", "Andrei Rodnenko said the two governments were discussing a Kim visit.",
         "Andrei Rudenko said the two governments were discussing a Kim visit."),
        # a place: as English news spells it
        ("In which region was the command post that the Storm Shadow missiles struck?",
         "مارينو", "كورسك", "The command post was in the Korsk region.", "The command post was in the Kursk region."),
    ],
)
def test_a_name_put_into_english_is_spelled_as_english_news_does(
    pipeline, fake_ollama, question, needle, copied, written, shown
):
    number = _number_of(pipeline, question, needle, fake_ollama)
    fake_ollama.reply_with(json.dumps({"answer": copied, "passages": [number]}, ensure_ascii=False))
    fake_ollama.reply_with(json.dumps({"sentence": written}))
    (sentence,) = pipeline.ask(question).sentences
    assert sentence.text == shown
    assert sentence.citations[0].supported


def test_a_follow_up_is_searched_with_the_earlier_words_and_answered_as_typed(pipeline, fake_ollama):
    earlier = ("ماذا قال الجنرال غيراسيموف لبوتين عن معارك كورسك؟", "أشاد بالجنود الكوريين الشماليين.")
    fake_ollama.reply_with('{"answer": "", "passages": []}')
    answer = pipeline.ask("وكم قدّر خسائر الأوكرانيين هناك؟", history=[earlier])

    assert answer.standalone_question.startswith("وكم قدّر خسائر الأوكرانيين هناك؟ (الجنرال غيراسيموف لبوتين معارك كورسك")
    (pick,) = _chats(fake_ollama)  # the pick only: no rewrite was asked for
    assert pick["messages"][0]["content"] == QUOTE_SYSTEM
    asked_model = pick["messages"][-1]["content"]
    assert "وكم قدّر خسائر الأوكرانيين هناك؟" in asked_model and "غيراسيموف لبوتين" not in asked_model


def test_what_he_said_is_answered_about_the_man_the_last_answer_named(pipeline, fake_ollama):
    earlier = ("من هو رئيس أركان القوات المسلحة الروسية الذي ورد ذكره في الأخبار؟", "هو فاليري جيراسيموف، وقد قدّم تقريراً للرئيس بوتين.")
    follow_up = "وماذا قال عن الجنود الكوريين الشماليين؟"
    passages = next(u.passages for u in pipeline.ask_stream(follow_up, history=[earlier]) if u.passages)
    praise = next(p.number for p in passages if "احترافية عالية" in p.text)  # «وأوضح غيراسيموف أن … أظهروا احترافية عالية»
    fake_ollama.reply_with(json.dumps({"answer": "أظهروا احترافية عالية", "passages": [praise]}, ensure_ascii=False))
    answer = pipeline.ask(follow_up, history=[earlier])

    assert "جيراسيموف" in answer.standalone_question
    asked_model = _chats(fake_ollama)[-1]["messages"][-1]["content"]
    assert follow_up in asked_model and "جيراسيموف" in asked_model  # what "he" is, beside the question as typed
    (sentence, *_) = answer.sentences
    assert "احترافية عالية" in sentence.text and sentence.citations[0].passage == praise


WHO_IS = "من هو شين وون سيك؟"


def test_a_who_is_question_answered_with_the_name_alone_shows_the_sentence_naming_him(pipeline, fake_ollama):
    number = _number_of(pipeline, WHO_IS, "شين وون سيك", fake_ollama)
    fake_ollama.reply_with(json.dumps({"answer": "شين وون سيك", "passages": [number]}, ensure_ascii=False))
    answer = pipeline.ask(WHO_IS)

    assert not answer.abstained
    (sentence, *_) = answer.sentences
    assert "مستشار الأمن القومي" in sentence.text and sentence.citations[0].passage == number


def test_a_longer_question_answered_with_its_own_words_is_still_declined(pipeline, fake_ollama):
    question = "ما الذي قاله شين وون سيك؟"
    fake_ollama.reply_with(json.dumps({"answer": "شين وون سيك", "passages": [1]}, ensure_ascii=False))
    answer = pipeline.ask(question)
    assert answer.abstained and "only repeat the question" in answer.withheld[0].withheld


def test_a_question_about_a_figure_it_gives_is_answered_by_the_passages_that_state_the_figure(pipeline, fake_ollama):
    question = "إلى أي مصدر تنسب المقالات تقدير الـ14 ألف جندي كوري شمالي؟"
    fake_ollama.reply_with(json.dumps({"answer": "كورية الشمالية", "passages": [1]}, ensure_ascii=False))
    answer = pipeline.ask(question)

    shown = " ".join(s.text for s in answer.sentences)
    assert "التقارير الأوكرانية" in shown and "وكالة يونهاب" in shown  # two sources of the one figure
    assert answer.sentences[0].citations[0].reason == STATING_REASON
    assert all("only repeat the question" in s.withheld for s in answer.withheld)


@pytest.mark.parametrize(
    "copied, grown, written, shown",
    [
        ("غيراسيموف", "غيراسيموف", "General Walis", "Gerasimov"),
        # a first name is grown to the whole name; the last name is spelled, the whole name kept in Arabic
        ("فاليري", "فاليري غيراسيموف", "General Fel'yer", "Gerasimov («فاليري غيراسيموف»)"),
    ],
)
def test_a_name_the_model_s_english_sentence_fails_to_write_is_put_in_english_by_code(pipeline, fake_ollama, copied, grown, written, shown):
    question = "Which Russian general praised the North Korean troops in a report to Putin?"
    number = _number_of(pipeline, question, "فاليري غيراسيموف", fake_ollama)
    fake_ollama.reply_with(json.dumps({"answer": copied, "passages": [number]}, ensure_ascii=False))
    fake_ollama.reply_with(json.dumps({"sentence": f"{written} praised the North Korean troops."}))
    answer = pipeline.ask(question)

    (sentence,) = answer.sentences
    assert sentence.text == f"{NAME_IN_ENGLISH} {shown}."
    (citation,) = sentence.citations
    assert citation.passage == number and citation.supported
    bad = written.split()[-1]
    assert citation.reason.startswith(f"a name of the passage, in English by code (the model's sentence: name not in passage: {bad})")
    assert citation.reason.endswith(f"copied «{grown}»")


MARCH_QUESTION = "Which news agency reported in March 2025 that more North Korean troops had been sent?"
KCNA = "وكالة الأنباء المركزية الكورية الرسمية"


def test_an_english_answer_from_a_passage_without_the_question_s_month_is_withheld(pipeline, fake_ollama):
    number = next(p.number for p in _passages(pipeline, MARCH_QUESTION) if KCNA in p.text and "مارس" not in p.text)
    fake_ollama.reply_with(json.dumps({"answer": KCNA, "passages": [number]}, ensure_ascii=False))
    fake_ollama.reply_with('{"answer": "", "passages": []}')  # asked again over the passages of March 2025: no pick
    answer = pipeline.ask(MARCH_QUESTION)

    assert answer.abstained and len(_chats(fake_ollama)) == 2  # no English sentence is asked for
    assert any(w.withheld == "the passage of the copied words does not give the question's March" for w in answer.withheld)
    assert answer.text == "The passage with an answer does not mention March, which the question asks about."


def test_a_pick_without_the_question_s_month_is_made_again_over_the_passages_that_give_it(pipeline, fake_ollama):
    passages = _passages(pipeline, MARCH_QUESTION)
    kcna = next(p.number for p in passages if KCNA in p.text and "مارس" not in p.text)
    yonhap = next(p for p in passages if "يونهاب" in p.text and "مارس 2025" in p.text)
    fake_ollama.reply_with(json.dumps({"answer": KCNA, "passages": [kcna]}, ensure_ascii=False))
    fake_ollama.reply_with(json.dumps({"answer": "وكالة يونهاب", "passages": [1]}, ensure_ascii=False))
    fake_ollama.reply_with(json.dumps({"sentence": "Yonhap reported in March 2025 that more troops had been sent."}))
    answer = pipeline.ask(MARCH_QUESTION)

    (sentence,) = answer.sentences
    assert "Yonhap" in sentence.text and sentence.citations[0].passage == yonhap.number  # the number the reader sees
    first, again, english = _chats(fake_ollama)
    assert KCNA in first["messages"][-1]["content"] and "يونهاب" in again["messages"][-1]["content"]
    assert all("مارس" in part for part in again["messages"][-1]["content"].split("<passage")[1:])  # only March's passages
    assert english["messages"][0]["content"] == ENGLISH_SYSTEM


def test_a_date_the_model_misquotes_is_the_one_date_of_the_passages_it_named(pipeline, fake_ollama):
    question = "In which month did Ukraine's incursion into the Kursk region begin?"
    passages = _passages(pipeline, question)
    august = next(p.number for p in passages if "أغسطس" in p.text)
    undated = next(p.number for p in passages if not calendar_dates(p.text))
    fake_ollama.reply_with(json.dumps({"answer": "أكتوبر", "passages": [undated, august]}, ensure_ascii=False))
    answer = pipeline.ask(question)

    (sentence,) = answer.sentences
    assert sentence.text == "The cited article gives August." and sentence.citations[0].passage == august
    assert "the one date of the passages named (the model's «أكتوبر» is in none)" in sentence.citations[0].reason
    assert len(_chats(fake_ollama)) == 1  # a date is put into English by code


def test_a_misquoted_date_is_not_guessed_between_two_dates(pipeline, fake_ollama):
    question = "In which month did North Korea confirm that it had sent troops to Russia?"
    passages = _passages(pipeline, question)
    dated = [p.number for p in passages if calendar_dates(p.text)]
    assert len({date for p in passages if p.number in dated for date in calendar_dates(p.text)}) > 1
    fake_ollama.reply_with(json.dumps({"answer": "أكتوبر", "passages": dated}, ensure_ascii=False))
    answer = pipeline.ask(question)
    assert answer.abstained and answer.text == "The articles do not give the date asked for."
