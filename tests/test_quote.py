"""The quote answer style: the model copies the answer and points at passages; the answer is
those passages' own sentences, chosen by where the copied words actually are."""
import json

import pytest

from rag.draft import parse_quote
from rag.prompt import quote_schema
from rag.question import analyse
from rag.quote import (
    CLOSEST_REASON,
    QUOTED_REASON,
    closer_than_picked,
    closest_typed,
    date_nearest,
    english_figure,
    holds_answer,
    introduces,
    is_name,
    passage_words,
    picks_by_code,
    quoted_sentences,
    unlisted_holders,
    whole_date,
    whole_name,
)
from rag.types import Passage
from conftest import term_statistics

PASSAGES = [
    Passage(1, "a", "h", "قال الجيش الكوري الجنوبي إن نحو 4 آلاف جندي قتلوا أو أصيبوا.", 0, 60, "c1"),
    Passage(2, "b", "h", "أرسلت كوريا الشمالية 3,000 جندي إضافي في يناير وفبراير 2025.", 0, 60, "c2"),
    Passage(3, "c", "h", "أشاد الجنرال فاليري غيراسيموف بالجنود الكوريين الشماليين.", 0, 60, "c3"),
]


def test_a_streamed_pick_yields_only_the_passage_numbers_already_complete():
    full = json.dumps({"answer": "4 آلاف جندي", "passages": [1, 12]}, ensure_ascii=False)
    assert parse_quote(full[: full.index("[") + 2]).passages == []  # "1" may still become "12"
    assert parse_quote(full[: full.rindex(",") + 1]).passages == [1]
    done = parse_quote(full)
    assert done.done and done.answer == "4 آلاف جندي" and done.passages == [1, 12]
    assert parse_quote('{"answer": "4 آلاف').answer == "4 آلاف"


def test_the_copied_answer_is_found_in_any_spelling_of_its_numbers():
    assert holds_answer(PASSAGES[0].text, "4,000 جندي")
    assert holds_answer(PASSAGES[0].text, "٤٠٠٠")
    assert holds_answer(PASSAGES[2].text, "فاليري غيراسيموف")
    assert not holds_answer(PASSAGES[0].text, "14,000 جندي")
    assert not holds_answer(PASSAGES[0].text, "غيراسيموف")
    assert not holds_answer(PASSAGES[0].text, "")


def test_the_answer_is_the_listed_passages_own_sentences():
    (sentence,) = quoted_sentences(parse_quote('{"answer": "3,000", "passages": [2]}'), PASSAGES)
    assert sentence.text == PASSAGES[1].text
    assert [(c.passage, c.supported, c.reason) for c in sentence.citations] == [(2, True, QUOTED_REASON)]


def test_a_listed_passage_without_the_copied_words_is_dropped():
    sentences = quoted_sentences(parse_quote('{"answer": "غيراسيموف", "passages": [1, 3]}'), PASSAGES)
    assert [s.text for s in sentences] == [PASSAGES[2].text]


def test_the_passage_holding_the_copied_words_replaces_a_wrongly_listed_one():
    sentences = quoted_sentences(parse_quote('{"answer": "4 آلاف", "passages": [2]}'), PASSAGES)
    assert [s.citations[0].passage for s in sentences] == [1]


def test_copied_words_found_nowhere_leave_the_model_s_list_as_it_is():
    sentences = quoted_sentences(parse_quote('{"answer": "خمسة آلاف", "passages": [2, 3]}'), PASSAGES)
    assert [s.citations[0].passage for s in sentences] == [2, 3]


def test_the_other_passages_holding_the_copied_words_are_the_ones_not_tried_yet():
    passages = [*PASSAGES, Passage(4, "d", "h", "وأكد مسؤولون مقتل أو إصابة 4,000 جندي كوري شمالي.", 0, 60, "c4")]
    pick = parse_quote('{"answer": "4,000", "passages": [1]}')
    tried = quoted_sentences(pick, passages)
    assert [s.citations[0].passage for s in unlisted_holders(pick, passages, tried)] == [4]
    assert [(c.passage, c.supported, c.reason) for c in unlisted_holders(pick, passages, [])[0].citations] == [(1, True, QUOTED_REASON)]
    assert unlisted_holders(parse_quote('{"answer": "", "passages": []}'), passages, []) == []


def test_an_empty_pick_is_no_answer():
    assert quoted_sentences(parse_quote('{"answer": "", "passages": []}'), PASSAGES) == []


def test_the_pick_schema_only_allows_passage_numbers_that_were_shown():
    schema = quote_schema(3)
    assert schema["properties"]["passages"]["items"]["enum"] == [1, 2, 3]
    assert list(schema["properties"]) == ["answer", "passages"]


def test_words_the_model_wrote_in_english_are_found_by_their_numbers_months_and_names():
    treaty = "التي وقعها كيم جونغ أون والرئيس الروسي فلاديمير بوتين في بيونغ يانغ في يونيو 2024."
    assert holds_answer(treaty, "June 2024")
    assert not holds_answer(treaty, "July 2024")
    assert holds_answer(PASSAGES[2].text, "Valery Gerasimov")
    assert not holds_answer(PASSAGES[2].text, "General Walis")
    assert holds_answer("وحوالي 220 قطعة من مدافع الهاوتزر عيار 170 ملم.", "170 mm")


def test_an_english_sentence_around_a_bare_figure_may_not_add_what_the_passage_never_said():
    from rag.citations import check_english_answer

    passage = "وتداول مدونون مقطعاً يظهر أن 12 صاروخاً من طراز ستورم شادو استهدفت مقر قيادة."
    range_question = "What is the range of the Storm Shadow missiles that struck the command post?"
    supported, reason = check_english_answer("The range of the missiles was 12 kilometers.", "12", passage, range_question)
    assert not supported and reason == "adds words that neither the question nor the copied answer has: kilomet"
    count_question = "How many Storm Shadow missiles struck the command post?"
    assert check_english_answer("12 Storm Shadow missiles struck the command post.", "12", passage, count_question)[0]


def test_an_english_answer_to_a_name_question_must_name_what_the_copied_words_write():
    from rag.citations import check_english_answer

    passage = "وكانت صحيفة وول ستريت جورنال نقلاً عن مسؤولين غربيين قد ذكرت أن ضابطاً كبيراً قتل في كورسك."
    question = "Which newspaper, citing Western officials, reported that a senior officer was killed in Kursk?"
    copied = "الصحيفة وول ستريت جورنال نقلاً"
    assert check_english_answer("The ``json`", copied, passage, question, name_asked=True) == (False, "names nothing the copied words write")
    assert check_english_answer("The Wall Street Journal reported it.", copied, passage, question, name_asked=True)[0]

    general = "وقال رئيس الأركان فاليري جيراسيموف في تقرير لبوتين إن الجنود الكوريين أظهروا شجاعة."
    asked = "Which Russian general praised the North Korean troops in a report to Putin?"
    # "Reis" fits «رئيس» in the passage, "Yury" is too short to judge: neither writes the copied «اليري»
    assert not check_english_answer("General Yury Reis praised the troops.", "اليري", general, asked, name_asked=True)[0]
    assert check_english_answer("General Valery Gerasimov praised them.", "فاليري جيراسيموف", general, asked, name_asked=True)[0]
    monument = "وأعلن كيم أن نصباً تذكارياً للجنود سيقام في بيونج يانغ."
    where = "Where will the monument to the fallen soldiers be built?"
    assert check_english_answer("It will be built in Byungang-Yang.", "بيونج يانغ", monument, where, name_asked=True)[0]
    # a question that asks for no name is not held to it
    assert check_english_answer("The troops showed courage.", "شجاعة", general, "What did the report say of the troops?")[0]


def test_a_name_copied_in_another_spelling_is_still_found():
    assert holds_answer("وأعلن كيم أن نصباً تذكارياً سيقام في بيونغ يانغ.", "بيونج يانج")
    assert not holds_answer("وأعلن كيم أن نصباً تذكارياً سيقام في بيونغ يانغ.", "موسكو")


def test_a_unit_the_passage_writes_may_follow_the_bare_figure_in_english():
    from rag.citations import check_english_answer

    passage = "وحوالي 220 قطعة من مدافع الهاوتزر ذاتية الدفع عيار 170 ملم."
    question = "What calibre were the self-propelled howitzers?"
    assert check_english_answer("The self-propelled howitzers were 170 mm calibre.", "170", passage, question)[0]
    assert not check_english_answer("The howitzers were 170 kilometers away.", "170", passage, question)[0]


def test_a_copied_part_of_a_date_grows_to_the_whole_date_the_passage_writes():
    assert whole_date("2024", "بموجب معاهدة الشراكة الموقعة مع موسكو في يونيو 2024.") == "يونيو 2024"
    assert whole_date("أبريل", "يوم الاثنين 28 أبريل 2025 أن قرار النشر") == "الاثنين 28 أبريل 2025"
    assert whole_date("يناير", "أرسلت 3,000 جندي في يناير وفبراير 2025، ليصل") == "يناير وفبراير 2025"
    assert whole_date("2025", "قتل 12 جندياً في 2025.") == "2025"  # «في» is no part of a date
    assert whole_date("مارس", "لا شهر هنا") == "مارس"  # not in the passage: as copied


@pytest.mark.parametrize(
    "copied, english",
    [
        ("4,000", "4,000"),
        ("14 ألف", "14,000"),
        ("حوالي 14 ألف", "about 14,000"),
        ("28 أبريل 2025", "28 April 2025"),
        ("الاثنين 28 أبريل 2025", "Monday 28 April 2025"),
        ("في يناير وفبراير 2025", "January and February 2025"),
        ("240 ملليمتر", "240 mm"),
        ("1953", "1953"),
    ],
)
def test_a_bare_figure_or_date_is_put_in_english_by_code(copied, english):
    assert english_figure(copied) == english


@pytest.mark.parametrize("copied", ["مهمة مقدسة", "4,000 من الجنود", "صواريخ مضادة للطائرات", "في", "", "2,5"])
def test_an_answer_with_other_words_is_left_to_the_model_s_sentence(copied):
    assert english_figure(copied) == ""


def test_a_name_is_introduced_by_a_sentence_that_opens_on_it_not_one_that_mentions_it_late():
    assert introduces("حمزة بن عبد المطلب صحابي من صحابة الرسول وعمه.", "حمزة بن عبد المطلب")
    assert introduces("وقال مستشار الأمن القومي في كوريا الجنوبية، شين وون سيك، في مقابلة إن…", "شين وون سيك")
    late = "التقويم الهجري هو تقويم يعتمد على دورة الشهور ويستخدمه المسلمون في تحديد المناسبات الدينية ويرتبط بحركة القمر."
    assert not introduces(late, "القمر")


FOUNDINGS = [
    "تأسس النادي الأهلي لكرة القدم في القاهرة عام 1907.",
    "تأسس نادي مانشستر يونايتد لكرة القدم عام 1878.",
    "نادي الزمالك من أندية القاهرة لكرة القدم.",
    "يقع ملعب القاهرة الدولي شرق المدينة.",
]


@pytest.fixture
def founding_statistics():
    return term_statistics(FOUNDINGS)


def _passages(texts):
    return [Passage(n, f"article-{n}", "h", text, 0, len(text), f"c{n}") for n, text in enumerate(texts, start=1)]


def test_code_picks_the_date_passage_closest_to_the_question_over_a_farther_one_the_model_picked(founding_statistics):
    asked = analyse("متى تأسس النادي الأهلي لكرة القدم؟")
    passages = _passages(FOUNDINGS)
    candidates = closest_typed(asked, passages, founding_statistics)
    assert [c.text for c in candidates][:1] == [FOUNDINGS[0]]  # the Zamalek and stadium lines give no date
    assert FOUNDINGS[2] not in [c.text for c in candidates] and FOUNDINGS[3] not in [c.text for c in candidates]
    closer = closer_than_picked(asked, candidates, [FOUNDINGS[1]], founding_statistics)
    assert closer.text == FOUNDINGS[0] and closer.citations[0].reason == CLOSEST_REASON
    assert closer_than_picked(asked, candidates, [], founding_statistics).text == FOUNDINGS[0]  # the model picked none


def test_a_pick_as_close_as_code_s_stands_even_when_it_was_withheld(founding_statistics):
    asked = analyse("متى تأسس نادي ليفربول لكرة القدم؟")  # no article names Liverpool
    candidates = closest_typed(asked, _passages(FOUNDINGS), founding_statistics)
    assert closer_than_picked(asked, candidates, [FOUNDINGS[1]], founding_statistics) is None


def test_code_picks_only_where_it_can_tell_the_answer_kind_from_a_passage():
    assert picks_by_code(analyse("متى تأسس النادي الأهلي؟"))
    assert picks_by_code(analyse("كم جندياً كورياً شمالياً أرسلت بيونغ يانغ؟"))  # names what it counts
    assert picks_by_code(analyse("كم دفعت روسيا لكل جندي؟"))  # a sum of money
    assert not picks_by_code(analyse("كم تبعد مكة المكرمة عن المدينة المنورة؟"))  # any number would do
    assert not picks_by_code(analyse("When was the club founded?"))  # its words are not in the articles
    assert not picks_by_code(analyse("من أسس النادي الأهلي؟"))


def test_copied_words_are_grown_to_the_whole_words_the_passage_writes():
    passage = "وقد أعلن الجنرال فاليري غيراسيموف، رئيس الأركان، أن الجنود أظهروا احترافية"
    assert passage_words("اليري", passage) == "فاليري"  # cut off at the first letter
    assert passage_words("فاليري غيراسيموف", passage) == "فاليري غيراسيموف"
    assert passage_words("نقلاً", "وذكرت الصحيفة نقلاً عن مسؤولين") == "نقلاً"  # with its tanwin
    assert passage_words("وول ستريت", passage) == "وول ستريت"  # not in the passage: as copied


def test_a_copied_first_name_is_grown_to_the_whole_name_the_passage_writes():
    passage = "وقد أعلن الجنرال فاليري غيراسيموف، رئيس الأركان، أن الجنود أظهروا احترافية"
    assert whole_name("فاليري", passage) == "فاليري غيراسيموف"  # English writes «غيراسيموف» one way: a name
    assert whole_name("غيراسيموف", passage) == "غيراسيموف"  # nothing after it but a comma
    assert whole_name("فولوديمير", "نشر الرئيس فولوديمير على وسائل التواصل") == "فولوديمير"  # «على» is no name
    assert whole_name("وول ستريت", passage) == "وول ستريت"  # not in the passage: as copied
    assert whole_name("يونهاب", "أفادت وكالة يونهاب الكورية الجنوبية") == "يونهاب"  # «الكورية» is no name, though it fits "locavore"


def test_a_date_question_that_gives_a_figure_is_answered_by_the_date_of_the_figure_s_clause():
    passage = ("ثم أفادت وكالة يونهاب الكورية الجنوبية في مارس 2025 أن كوريا الشمالية أرسلت 3,000 جندي إضافي"
               " إلى روسيا في يناير وفبراير 2025، ليصل العدد الإجمالي إلى حوالي 14,000 جندي.")
    assert date_nearest([3000.0], passage) == "يناير وفبراير 2025"  # not the report's March, before «أن»
    assert date_nearest([14000.0], passage) == ""  # its clause has no date
    assert date_nearest([500.0], passage) == ""  # the passage does not state it


def test_a_name_is_a_few_words_and_no_figure():
    assert is_name("وكالة الأنباء المركزية الكورية الرسمية")
    assert not is_name("11 ألف جندي كوري شمالي")
    assert not is_name("")
    assert not is_name("أن العسكريين من جيش الشعب الكوري قاتلوا كتفاً إلى كتف")

