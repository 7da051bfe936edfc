"""The whole pipeline on the Ollama backend, with Ollama played by the local test fake.

Retrieval, passage selection and citation checking are real; only the model's
words come from the fake, so these tests pin down what the pipeline does with them.
"""
import json

import pytest


@pytest.fixture
def pipeline(ollama_pipeline):
    return ollama_pipeline


def _answer_citing(pipeline, question, needle):
    """A model reply that states the passage containing `needle` and cites it."""
    from rag.passages import select_passages

    vector = pipeline.embedder.embed_queries([question])[0]
    hits = pipeline.retrieve(question)
    passages = select_passages(question, vector, hits, pipeline.sentence_vectors, pipeline.settings.context_tokens)
    passage = next(p for p in passages if needle in p.text)
    return json.dumps({"found": True, "sentences": [{"text": passage.text, "passages": [passage.number]}]}, ensure_ascii=False)


def test_a_follow_up_is_rewritten_before_retrieval(pipeline, fake_ollama):
    standalone = "ماذا قال غيراسيموف عن الجنود الكوريين الشماليين؟"
    fake_ollama.reply_with(json.dumps({"question": standalone}, ensure_ascii=False))
    fake_ollama.reply_with(_answer_citing(pipeline, standalone, "غيراسيموف"))
    history = [("من هو فاليري غيراسيموف؟", "هو رئيس الأركان العامة للقوات المسلحة الروسية [1].")]
    answer = pipeline.ask("ماذا قال عنهم؟", history)

    assert answer.standalone_question == standalone
    chats = [body for path, body in fake_ollama.requests if path == "/api/chat"]
    assert len(chats) == 2
    rewrite_prompt = chats[0]["messages"][-1]["content"]
    assert "فاليري غيراسيموف" in rewrite_prompt and "[1]" not in rewrite_prompt
    assert standalone in chats[1]["messages"][-1]["content"]
    assert not answer.abstained and answer.sentences[0].verdict == "supported"
    for body in chats:
        assert {"num_ctx", "temperature", "seed"} <= set(body["options"])


def test_a_cited_claim_its_passage_does_not_make_is_unsupported(pipeline, fake_ollama):
    question = "كم عدد الجنود الكوريين الشماليين الذين قتلوا أو أصيبوا؟"
    right = json.loads(_answer_citing(pipeline, question, "4,000"))
    wrong = right["sentences"][0]["text"].replace("4,000", "9,000")
    right["sentences"].append({"text": wrong, "passages": right["sentences"][0]["passages"]})
    fake_ollama.reply_with(json.dumps(right, ensure_ascii=False))
    answer = pipeline.ask(question)
    assert [s.verdict for s in answer.sentences] == ["supported", "unsupported"]
    assert "number 9000 not in passage" in answer.sentences[1].citations[0].reason


def _chats(fake_ollama) -> list[dict]:
    return [body for path, body in fake_ollama.requests if path == "/api/chat"]


def test_a_question_on_a_topic_the_articles_lack_is_declined_without_asking_the_model(pipeline, fake_ollama):
    answer = pipeline.ask("من فاز بكأس العالم لكرة القدم 2022؟")
    assert answer.abstained and answer.sentences == [] and answer.passages == []
    assert _chats(fake_ollama) == []
    assert "«فاز»" in answer.text and "«بكأس»" in answer.text


def test_a_near_miss_names_what_the_articles_have_and_what_they_lack(pipeline, fake_ollama):
    answer = pipeline.ask("كم عدد الجنود الكوريين الشماليين الذين أسرتهم القوات الأوكرانية؟")
    assert answer.abstained and _chats(fake_ollama) == []
    assert answer.text.startswith("تذكر المقالات «الجنود»") and answer.text.endswith("لكنها لا تذكر «أسرتهم».")


def test_an_answer_with_no_supported_sentence_is_declined_naming_what_was_asked(pipeline, fake_ollama):
    question = "كم عدد الجنود الكوريين الشماليين الذين قتلوا أو أصيبوا؟"
    wrong = json.loads(_answer_citing(pipeline, question, "4,000"))
    wrong["sentences"][0]["text"] = wrong["sentences"][0]["text"].replace("4,000", "9,000")
    fake_ollama.reply_with(json.dumps(wrong, ensure_ascii=False))
    answer = pipeline.ask(question)
    assert answer.abstained and answer.sentences == []
    assert answer.text.endswith("لكنها لا تذكر العدد المطلوب.")


def test_a_checked_sentence_that_gives_no_date_for_a_date_question_is_withheld(pipeline, fake_ollama):
    question = "في أي يوم سيُعقد اجتماع القوى الغربية في باريس بشأن أوكرانيا؟"
    fake_ollama.reply_with(_answer_citing(pipeline, question, "باريس"))
    answer = pipeline.ask(question)
    assert answer.abstained and answer.sentences == []
    (withheld,) = answer.withheld
    assert "باريس" in withheld.text and withheld.verdict == "supported" and withheld.withheld == "gives no date"


def test_every_source_s_figure_is_given_when_the_articles_differ(pipeline, fake_ollama):
    question = "كم عدد الجنود الذين أرسلتهم كوريا الشمالية إلى روسيا؟"
    fake_ollama.reply_with(_answer_citing(pipeline, question, "14,000"))
    answer = pipeline.ask(question)
    assert all(s.verdict == "supported" for s in answer.sentences)
    stated = " ".join(s.text for s in answer.sentences)
    for figure in ("14,000", "10 آلاف", "3,000"):
        assert figure in stated
    cited_articles = {p.article_id for p in answer.cited_passages}
    assert len(cited_articles) >= 2


def test_english_questions_get_english_instructions_and_an_english_decline(pipeline, fake_ollama):
    fake_ollama.reply_with(json.dumps({"found": False, "sentences": [{"text": "Not in the passages.", "passages": [1]}]}))
    answer = pipeline.ask("Who won the 2022 World Cup?")
    assert "English" in _chats(fake_ollama)[-1]["messages"][0]["content"]
    assert answer.abstained and answer.text == "The articles do not give the name asked for."


def test_an_answer_that_only_echoes_the_question_is_declined(pipeline, fake_ollama):
    question = "في أي تاريخ سيزور كيم جونغ أون موسكو؟"
    fake_ollama.reply_with(json.dumps({"found": True, "sentences": [{"text": question, "passages": [1, 2]}]}, ensure_ascii=False))
    answer = pipeline.ask(question)
    assert answer.abstained and answer.sentences == []


def test_a_right_claim_citing_the_wrong_passage_is_cited_to_the_passage_that_states_it(pipeline, fake_ollama):
    question = "كم عدد الجنود الكوريين الشماليين الذين قتلوا أو أصيبوا؟"
    right = json.loads(_answer_citing(pipeline, question, "4,000"))
    stated_by = right["sentences"][0]["passages"][0]
    wrong_number = 2 if stated_by == 1 else 1
    right["sentences"][0]["passages"] = [wrong_number]
    fake_ollama.reply_with(json.dumps(right, ensure_ascii=False))
    answer = pipeline.ask(question)
    (sentence,) = answer.sentences
    assert [(c.passage, c.supported) for c in sentence.citations] == [(stated_by, True)]
    assert sentence.citations[0].reason.startswith(f"model cited [{wrong_number}]")
    assert answer.text.endswith(f"[{stated_by}]")


def test_a_passage_named_in_the_sentence_becomes_its_citation(pipeline, fake_ollama):
    question = "كم عدد الجنود الكوريين الشماليين الذين قتلوا أو أصيبوا؟"
    cited = json.loads(_answer_citing(pipeline, question, "4,000"))["sentences"][0]
    (number,), stated = cited["passages"], cited["text"]
    sentence = f"وفقاً للمقطع {number}، {stated}"
    fake_ollama.reply_with(json.dumps({"found": True, "sentences": [{"text": sentence, "passages": []}]}, ensure_ascii=False))
    answer = pipeline.ask(question)
    (checked,) = answer.sentences
    assert checked.text == stated
    assert [(c.passage, c.supported) for c in checked.citations] == [(number, True)]
    assert not checked.citations[0].reason.startswith("model cited")



def test_an_english_sentence_that_invents_a_name_is_not_supported(pipeline, fake_ollama):
    question = "Which Russian general praised the North Korean troops?"
    number = json.loads(_answer_citing(pipeline, question, "غيراسيموف"))["sentences"][0]["passages"][0]
    invented = "The general who praised the North Korean troops was General Walis."
    fake_ollama.reply_with(json.dumps({"found": True, "sentences": [{"text": invented, "passages": [number]}]}))
    answer = pipeline.ask(question)
    assert answer.abstained and answer.text == "The articles do not give the name asked for."
    assert "Walis" not in answer.text
