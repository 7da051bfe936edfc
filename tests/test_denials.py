"""A claim is shown with its article's denial of it (rag.denials): pure code, no model."""
import pytest

from rag.denials import denial_after, denies
from rag.types import Chunk

CLAIM = "أعلنت روسيا، السبت، أن قواتها استعادت بالكامل منطقة كورسك التي سيطرت عليها القوات الأوكرانية."
DENIAL = "ونفت السلطات الأوكرانية هذا الادعاء."


@pytest.mark.parametrize(
    "sentence, expected",
    [
        (DENIAL, True),
        ("ونفى الكرملين أن تكون قواته قد انسحبت.", True),
        ("But Kyiv denied the claim.", True),
        ("Ukrainian officials have dismissed the report as propaganda.", True),
        ("وأكدت الوكالة أن هذه الخطوة تأتي تنفيذاً للمعاهدة.", False),  # «تنفيذ» is not «تنفي»
        ("وقال زيلينسكي إن قواته لا تزال تقاتل، وهو ما نفته موسكو لاحقاً في بيان مطول صدر مساء الأحد.", False),  # not how it opens
        ("ولم تعلق السلطات الأوكرانية.", False),
    ],
)
def test_a_denial_is_a_denial_verb_among_a_sentence_s_first_words(sentence, expected):
    assert denies(sentence) is expected


def test_the_sentence_after_a_claim_is_found_when_it_denies_it():
    text = f"{CLAIM} {DENIAL} وقال مسؤولون إن كوريا الشمالية أرسلت 3 آلاف جندي إضافي."
    chunk = Chunk("c", "a", "headline", text, 1000, 1000 + len(text), 50)
    start, end = denial_after(chunk, 1000, 1000 + len(CLAIM))
    assert text[start - 1000 : end - 1000] == DENIAL
    after_denial = denial_after(chunk, start, end)
    assert after_denial is None  # the next sentence does not deny
