import pytest

from rag.arabic import (
    STOPWORDS,
    analyze,
    content_terms,
    detect_language,
    extract_numbers,
    normalize,
    numbers_match,
    split_clauses,
    split_sentences,
    stem,
    tokenize,
)

from conftest import SEEDS

SEED_FILES = sorted(SEEDS.glob("*.txt"))


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("أرسلت", "ارسلت"),
        ("إرسال", "ارسال"),
        ("آلاف", "الاف"),
        ("ٱلقوات", "القوات"),
        ("الكورية", "الكوريه"),
        ("إلى", "الي"),
        ("مؤتمر", "موتمر"),
        ("الخسائر", "الخساير"),
        ("الشَّمَالِيَّةُ", "الشماليه"),
        ("جنبًا", "جنبا"),
        ("بـــ14", "ب14"),
        ("١٤٬٠٠٠", "14,000"),
        ("١٤٫٥", "14.5"),
        ("۱۲۳", "123"),
        ("Storm Shadow", "storm shadow"),
        ("ﻻ", "لا"),  # presentation form, folded by NFKC
    ],
)
def test_normalize(raw, normalized):
    assert normalize(raw) == normalized


NUMBER_CASES = [
    ("14,000", [14000]),
    ("14000", [14000]),
    ("١٤٬٠٠٠ جندي", [14000]),
    ("١٤٠٠٠", [14000]),
    ("14 ألف", [14000]),
    ("14 الف جندي", [14000]),
    ("14ألفاً", [14000]),
    ("4 آلاف", [4000]),
    ("نحو 4 آلاف جندي قتلوا", [4000]),
    ("أكثر من 11 ألف جندي", [11000]),
    ("ما بين 10 آلاف و12 ألف جندي", [10000, 12000]),
    ("ما بين 10,000 و12,000 من قواتها", [10000, 12000]),
    ("3 ملايين", [3_000_000]),
    ("3 مليون دولار", [3_000_000]),
    ("2 مليار", [2_000_000_000]),
    ("1.5 مليار", [1_500_000_000]),
    ("14 thousand troops", [14000]),
    ("3 million", [3_000_000]),
    ("14k", [14000]),
    ("1.1 million", [1_100_000]),
    ("الحرب الكورية 1950-1953", [1950, 1953]),
    ("الحرب الكورية 1950-53", [1950, 1953]),
    ("14.5", [14.5]),
    ("١٤٫٥", [14.5]),
    ("عيار 170 ملم", [170]),
    ("في يونيو 2024", [2024]),
    ("يوم الاثنين 28 أبريل 2025", [28, 2025]),
    ("ما يقدر بـ 14,000 جندي", [14000]),
    ("بـ14 جندياً", [14]),
    ("بـ14", [14]),
    ("1,000,000", [1_000_000]),
    ("3, 4", [3, 4]),
    ("3,4", [3, 4]),
    ("1,2345", [1, 2345]),
    ("14 km", [14]),
    ("Sentence ends at 2024.", [2024]),
    ("أرسل الآلاف من قواته", []),
    ("الآلاف", []),
    ("عشرات الآلاف من الجنود", []),
    ("لا أرقام هنا", []),
    ("", []),
]


@pytest.mark.parametrize(("text", "expected"), NUMBER_CASES)
def test_extract_numbers(text, expected):
    found = extract_numbers(text)
    assert len(found) == len(expected), found
    assert all(numbers_match(a, b) for a, b in zip(found, expected)), found


def test_numbers_match_tolerates_float_noise_only():
    assert numbers_match(0.1 + 0.2, 0.3)
    assert numbers_match(14000.0, 14000)
    assert not numbers_match(14000, 14001)
    assert not numbers_match(4000, 5000)


def test_tokenize_words_and_canonical_numbers():
    assert tokenize("أرسلت كوريا 14,000 جندي (14.5%)") == ["ارسلت", "كوريا", "14000", "جندي", "14.5"]
    assert tokenize("10 آلاف و12 ألف") == ["10000", "و", "12000"]
    assert tokenize("Storm-Shadow, COVID-19") == ["storm", "shadow", "covid", "19"]
    assert tokenize("بـ14") == ["ب", "14"]


def test_stopwords_are_normalized_and_cover_question_words():
    assert all(word == normalize(word) for word in STOPWORDS)
    for word in ["في", "إلى", "الى", "هذه", "التي", "كم", "ماذا", "متى", "أين", "كيف", "هل", "لماذا", "ما", "من"]:
        assert normalize(word) in STOPWORDS, word
    for word in ["how", "many", "what", "who", "when", "where", "why", "which", "the", "of"]:
        assert word in STOPWORDS, word
    assert "كوريا" not in STOPWORDS
    assert "troops" not in STOPWORDS


@pytest.mark.parametrize(
    "variants",
    [
        ["القوات", "قوات", "وقوات", "والقوات", "بالقوات", "للقوات", "قواتها"],
        ["الحرب", "حرب", "والحرب", "للحرب", "بالحرب", "حربها"],
        ["المنطقة", "منطقة", "بمنطقة", "المنطقه"],
        ["كوريا", "الكورية", "الكوري", "الكوريين", "وكوريا", "كوريه"],
        ["روسيا", "الروسية", "الروسي", "وروسيا"],
        ["أرسلت", "ارسلت", "أرسل"],
        ["الجنود", "جنود", "والجنود"],
        ["المعاهدة", "معاهدة", "للمعاهدة", "والمعاهدة"],
    ],
)
def test_stem_joins_article_and_conjunction_variants(variants):
    assert len({stem(word) for word in variants}) == 1, {word: stem(word) for word in variants}


def test_stem_keeps_different_words_apart():
    assert stem("الحرب") != stem("القوات")
    assert stem("كوريا") != stem("روسيا")
    assert stem("الجنوبية") != stem("الشمالية")


def test_stem_by_script():
    assert stem("troops") == "troop"
    assert stem("Running") == "run"
    assert stem("14000") == "14000"
    assert stem("14.5") == "14.5"


def test_analyze_drops_stop_words_and_keeps_numbers():
    terms = analyze("كم عدد الجنود الذين أرسلتهم كوريا الشمالية إلى روسيا؟ نحو 14,000 جندي")
    assert "14000" in terms
    assert not {"كم", "الذين", "الي"} & set(terms)
    assert stem("الجنود") in terms and stem("كوريا") in terms
    assert analyze("How many troops did North Korea send?") == ["troop", "north", "korea", "send"]


def test_analyze_matches_question_and_passage_wording():
    question = content_terms("ما عدد القوات الكورية الشمالية في كورسك؟")
    passage = content_terms(
        "ووفقاً لتصريحات مسؤولين، فقد نشرت كوريا الشمالية ما بين 10,000 و12,000 من قواتها في روسيا للقتال في منطقة كورسك."
    )
    assert {stem("القوات"), stem("الكورية"), stem("الشمالية"), stem("كورسك")} <= question & passage


def test_content_terms_exclude_numbers():
    terms = content_terms("أرسلت كوريا الشمالية 14,000 جندي في 2024")
    assert terms == {stem("أرسلت"), stem("كوريا"), stem("الشمالية"), stem("جندي")}


def _sentences(text):
    return [text[start:end] for start, end in split_sentences(text)]


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.stem)
def test_split_sentences_round_trips_on_seed_articles(path):
    text = path.read_text(encoding="utf-8")
    spans = split_sentences(text)
    assert len(spans) > 5
    previous_end = 0
    for start, end in spans:
        sentence = text[start:end]
        assert sentence and sentence == sentence.strip()
        assert start >= previous_end
        assert "\n" not in sentence
        previous_end = end
    # nothing but whitespace is left between or around the spans
    covered = set().union(*(range(start, end) for start, end in spans))
    assert all(text[i].isspace() for i in range(len(text)) if i not in covered)


def test_split_sentences_on_seed_text_with_decimals_and_abbreviations():
    text = (SEEDS / "002_d4514714ad0830a8.txt").read_text(encoding="utf-8")
    sentences = _sentences(text)
    assert "د. إيمان بشير." in sentences
    assert any(s.endswith("نهاية الحرب الكورية 1950-1953.") for s in sentences)
    text = (SEEDS / "003_0b40211500770580.txt").read_text(encoding="utf-8")
    assert any("ما يقدر بـ 14,000 جندي، من بينهم 3,000 كتعزيزات" in s for s in _sentences(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("قتل 14.5 ألف جندي. ثم وصل 1,000 آخرون!", ["قتل 14.5 ألف جندي.", "ثم وصل 1,000 آخرون!"]),
        ("هل أرسلت كوريا قوات؟ نعم.", ["هل أرسلت كوريا قوات؟", "نعم."]),
        ("كم عدد القوات؟نحو 14000", ["كم عدد القوات؟", "نحو 14000"]),
        ("د. إيمان بشير. ابوكبدة", ["د. إيمان بشير.", "ابوكبدة"]),
        ("U.S. forces met Mr. Kim. Then they left.", ["U.S. forces met Mr. Kim.", "Then they left."]),
        ("قال: “انتهى انتصارهم.” ثم غادر.", ["قال: “انتهى انتصارهم.”", "ثم غادر."]),
        ("في كورسك.تطورات خطيرة", ["في كورسك.", "تطورات خطيرة"]),
        ("Wait... what?! Yes.", ["Wait...", "what?!", "Yes."]),
        ("  عنوان  \n\n  سطر ثان بلا نقطة \r\n", ["عنوان", "سطر ثان بلا نقطة"]),
        ("\ufeffأول سطر.", ["أول سطر."]),
        ("", []),
        (" \n \n", []),
    ],
)
def test_split_sentences_tricky(text, expected):
    assert _sentences(text) == expected


def test_split_clauses():
    text = "مقدمة. وفقاً للمعلومات المتاحة، أرسلت بيونغ يانغ 14,000 جندي؛ من بينهم 3,000 كتعزيزات, للقتال; هناك."
    start = text.index("وفقاً")
    spans = split_clauses(text, start, len(text))
    assert [text[s:e] for s, e in spans] == [
        "وفقاً للمعلومات المتاحة،",
        "أرسلت بيونغ يانغ 14,000 جندي؛",
        "من بينهم 3,000 كتعزيزات,",
        "للقتال;",
        "هناك.",
    ]
    assert all(start <= s < e <= len(text) for s, e in spans)


def test_split_clauses_without_separators_is_the_stripped_span():
    text = "  جملة واحدة بلا فواصل 1,000  "
    assert split_clauses(text, 0, len(text)) == [(2, len(text) - 2)]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("أرسلت كوريا الشمالية قوات إلى روسيا", "ar"),
        ("North Korea sent troops to Russia", "en"),
        ("وتشمل المطالب إلغاء العقوبات على بنك Rosselkhozbank ونظام Swift", "ar"),
        ("The agency KCNA (وكالة الأنباء المركزية) said so", "ar"),
        ("About 14,000 troops, according to the report of the Ukrainian side (كورسك)", "en"),
        ("", "ar"),
        ("14,000", "ar"),
        ("Mykolaiv was hit (the article writes «ميكولايف الساحلية الأوكرانية»).", "en"),  # a quote is its source's
        ("قال المتحدث «We are still fighting» في كورسك", "ar"),
        ("«مارينو»", "ar"),  # nothing but a quote: the quote decides
    ],
)
def test_detect_language(text, language):
    assert detect_language(text) == language
