"""The next sentence of a shown one's article, shown with it when it denies, continues or lists
what it names (rag.following): pure code, no model."""
import pytest

from rag.following import CONTINUATION, DENIAL, LIST, following, opening
from rag.question import analyse
from rag.types import Chunk

CLAIM = "أعلنت روسيا، السبت، أن قواتها استعادت بالكامل منطقة كورسك التي سيطرت عليها القوات الأوكرانية."
DENIAL_SENTENCE = "ونفت السلطات الأوكرانية هذا الادعاء."
STATEMENT = "وقال المستشار إن كوريا الشمالية حصلت على صواريخ مضادة للطائرات."
ADDED = "وأضاف المستشار أن روسيا أعلنت نيتها دعم كوريا الشمالية في مجال الأقمار الصناعية."


@pytest.mark.parametrize(
    "sentence, kind",
    [
        (DENIAL_SENTENCE, DENIAL),
        ("ونفى الكرملين أن تكون قواته قد انسحبت.", DENIAL),
        ("But Kyiv denied the claim.", DENIAL),
        ("Ukrainian officials have dismissed the report as propaganda.", DENIAL),
        (ADDED, CONTINUATION),
        ("وتشمل المطالب إلغاء العقوبات على بنك الدولة الزراعي.", LIST),
        ("These include the state agricultural bank.", LIST),
        ("كما أعلنت الوكالة أن الجنود سيعودون.", CONTINUATION),
        ("He added that the talks would go on.", CONTINUATION),
        ("وأكدت الوكالة أن هذه الخطوة تأتي تنفيذاً للمعاهدة.", None),  # «تنفيذ» is not «تنفي»
        ("وقال زيلينسكي إن قواته لا تزال تقاتل، وهو ما نفته موسكو لاحقاً في بيان مطول.", None),  # not how it opens
        ("ولم تعلق السلطات الأوكرانية.", None),
    ],
)
def test_a_sentence_opens_as_a_denial_a_continuation_or_a_list_by_its_first_words(sentence, kind):
    assert opening(sentence) == kind


def _chunk(*sentences: str) -> tuple[Chunk, list[tuple[int, int]]]:
    """A chunk at article offset 1000, and the article offsets of its sentences."""
    text = " ".join(sentences)
    spans, start = [], 1000
    for sentence in sentences:
        spans.append((start, start + len(sentence)))
        start += len(sentence) + 1
    return Chunk("c", "a", "headline", text, 1000, 1000 + len(text), 50), spans


def test_a_denial_follows_its_claim_whatever_was_asked():
    chunk, spans = _chunk(CLAIM, DENIAL_SENTENCE, ADDED)
    for question in ("هل استعادت روسيا كورسك؟", "متى أعلنت روسيا استعادة كورسك؟"):
        assert following(chunk, *spans[0], analyse(question)) == (DENIAL, *spans[1])


def test_a_continuation_follows_an_explanation_but_not_one_figure_date_name_or_place():
    chunk, spans = _chunk(STATEMENT, ADDED, CLAIM)
    explained = analyse("ما الذي حصلت عليه كوريا الشمالية مقابل جنودها؟")
    assert following(chunk, *spans[0], explained) == (CONTINUATION, *spans[1])
    for question in ("كم صاروخاً حصلت عليه كوريا الشمالية؟", "متى حصلت كوريا الشمالية على الصواريخ؟", "من قال إن كوريا الشمالية حصلت على صواريخ؟"):
        assert following(chunk, *spans[0], analyse(question)) is None
    assert following(chunk, *spans[1], explained) is None  # what comes next opens neither way
    assert following(chunk, *spans[2], explained) is None  # nothing comes next in the chunk


VAGUE = "قال الكرملين إنه لن يحدث إلا بمجرد رفع عدد من البنوك الروسية."
BANKS = "وتشمل المطالب إلغاء العقوبات على بنك الدولة الزراعي Rosselkhozbank."


def test_a_list_follows_a_sentence_that_only_counts_what_a_name_question_asks_for():
    chunk, spans = _chunk(VAGUE, BANKS, CLAIM)
    for question in ("أي مصرف روسي اشترط الكرملين رفع العقوبات عنه؟", "ما المطالب التي وضعها الكرملين؟"):
        assert following(chunk, *spans[0], analyse(question)) == (LIST, *spans[1])
    for question in ("كم بنكاً طلب الكرملين رفع العقوبات عنه؟", "متى طلب الكرملين رفع العقوبات؟"):
        assert following(chunk, *spans[0], analyse(question)) is None  # one figure, one date
    # the speaker going on is no list: a name question is answered by the sentence naming it
    chunk, spans = _chunk(STATEMENT, ADDED)
    assert following(chunk, *spans[0], analyse("من قال إن كوريا الشمالية حصلت على صواريخ؟")) is None
