"""The chat in the browser: `build_app(pipeline)` lays out the page, `serve` runs it (`rag serve`).

All the work is in `ui.chat`, `ui.articles` and `ui.controls`; this module wires
components to them. Every event that touches the pipeline shares one queue slot
("pipeline"): there is one model, so users wait their turn instead of mixing.
"""
from __future__ import annotations

import logging
from pathlib import Path

import gradio as gr

from rag.answer_log import AnswerLog, model_sha256
from rag.backends import CHAT_MODELS
from rag.errors import RagError
from rag.eval.gold import SEEDS_DIR, SEEDS_GOLD
from rag.pipeline import Pipeline
from rag.settings import Settings
from ui import articles, chat, evaluation
from ui.controls import SharedPipeline, status_html
from ui.page import CSS, HEAD

log = logging.getLogger(__name__)

TITLE = "Arabic news assistant"
EXAMPLES = [
    "كم عدد الجنود الكوريين الشماليين الذين قتلوا أو أصيبوا؟",
    "ما عيار راجمات الصواريخ المتعددة التي أرسلتها كوريا الشمالية إلى روسيا؟",
    "Who thanked the North Korean troops, and for what?",
]
# Strings, not Google fonts: the page must not fetch anything from outside this machine.
THEME = gr.themes.Soft(
    font=["system-ui", "Segoe UI", "Noto Sans Arabic", "Arial", "sans-serif"],
    font_mono=["ui-monospace", "monospace"],
)
PIPELINE_QUEUE = {"concurrency_id": "pipeline", "concurrency_limit": 1}
# The chat shows its own progress: the passages being read, then the words. Gradio's
# overlay would animate the outputs for the whole answer (a pulsing border, a timer
# redrawn every frame), and those repaints take CPU from the model on two cores.
QUIET = {"show_progress": "hidden"}
# Gradio's queue looks for new events every 1 ms and for progress every 10 ms, idle or
# not: ~1100 wakeups a second that each take a core from llama.cpp while it reads the
# prompt. 50 ms (Gradio's own value on Windows) is still unnoticeable after Enter.
QUEUE_POLL_SECONDS = 0.05
PROGRESS_POLL_SECONDS = 0.1
NO_CHANGE = (gr.skip(), gr.skip(), gr.skip())
RATINGS = {True: "up", False: "down"}  # a second click on the same thumb takes the rating back (None)
MIB = 1024 * 1024


def build_app(pipeline: Pipeline, gold_file: Path = SEEDS_GOLD) -> gr.Blocks:
    shared = SharedPipeline(pipeline)
    stop_flags = chat.StopFlags()
    answer_rate = chat.AnswerRate()

    def one_question_at_a_time(turns, request: gr.Request):
        """Each answer builds on the conversation before it, so a session asks again once it has one."""
        if stop_flags.is_running(request.session_hash) or (turns and turns[-1].waiting):
            raise gr.Error(
                "Your last question is still waiting or being answered. "
                "Ask the next one once its answer is in, or press Stop.",
                title="One question at a time",
                print_exception=False,
            )

    def wait_to_ask(question, turns):
        """Enter shows the question at once, waiting its turn, and empties the box."""
        return "", *chat.wait_for_turn(question, turns)

    def wait_to_retry(turns):
        """Retry shows the last question waiting its turn again, in place of its answer."""
        return (gr.skip(), *chat.wait_for_turn(turns[-1].question, turns[:-1])) if turns else NO_CHANGE

    def answer(question, turns, request: gr.Request):
        """Answer the question the chat shows waiting or, called over the API, the question given.

        A question over a limit is not asked: the chat says why, and it goes back in the box."""
        waited = bool(turns) and turns[-1].waiting
        if waited:
            question, turns = turns[-1].question, turns[:-1]
        refusal = chat.over_limit(question, shared.pipeline.settings, answer_rate, request.session_hash)
        if refusal:
            yield question, *chat.refuse(question, turns, refusal)
            return
        box = gr.skip() if waited else ""  # the page emptied the box already: what is typed since stays
        source = "chat" if waited else "api"  # the page shows a question waiting; an API call does not

        def keep(checked):
            settings = shared.pipeline.settings
            try:
                return AnswerLog(settings).record(
                    checked, session=request.session_hash, source=source, model_sha256=model_sha256(settings)
                )
            except Exception:  # the reader still gets the answer; the server log says why it was not kept
                log.exception("could not write the answer to the answer log")
                return None

        with stop_flags.running(request.session_hash) as stop:
            for update in chat.respond(shared.pipeline, question, turns, stop, keep=keep):
                if update is None:
                    yield NO_CHANGE
                    continue
                yield box, *update
                box = gr.skip()  # while the answer streams, the box keeps what is typed next

    def stop_answer(request: gr.Request):
        stop_flags.stop(request.session_hash)

    def rate(turns, comment, like: gr.LikeData):
        """A thumb (and the comment typed beside it) goes into the answer's row of the log."""
        turn = chat.turn_of_message(turns, like.index)
        if turn is None or turn.answer is None:
            gr.Info("Only finished answers can be rated.")
            return gr.skip()
        if turn.log_id is None:
            gr.Info("Answers are not being logged (RAG_LOG=off), so ratings are not kept.")
            return gr.skip()
        AnswerLog(shared.pipeline.settings).rate(turn.log_id, RATINGS.get(like.liked), comment or "")
        gr.Info("Thanks, your rating was saved.")
        return ""

    def show_evaluation():
        caption, headers, rows = evaluation.latest_run_table(shared.pipeline.settings)
        chart, chart_message = evaluation.history_chart(shared.pipeline.settings)
        downs = evaluation.thumbs_down_rows(shared.pipeline.settings)
        return (
            caption, gr.update(value=rows, headers=headers), chart, chart_message,
            downs, gr.update(choices=[row[0] for row in downs], value=None),
        )

    def promote_draft(answer_id):
        try:
            return evaluation.draft(shared.pipeline.settings, answer_id), ""
        except RagError as exc:
            return "", f"⚠ {exc}"

    def save_gold(text):
        return evaluation.save(text, gold_file, SEEDS_DIR)

    def refresh():
        records = shared.pipeline.articles()
        ids = [r.article_id for r in records]
        return status_html(shared.pipeline), articles.article_rows(records), gr.update(choices=ids, value=None)

    def apply_settings(backend, ollama_model, top_k, temperature):
        try:
            message = shared.reconfigure(backend, ollama_model, top_k, temperature)
        except RagError as exc:
            message = f"⚠ {exc}"
        return message, status_html(shared.pipeline)

    def add_files(files, progress=gr.Progress(track_tqdm=True)):  # shows the ingest's tqdm bar in the page
        try:
            return articles.add_uploads(shared.pipeline, files or [])
        except RagError as exc:
            return f"⚠ {exc}"

    def remove_article(article_id):
        try:
            return articles.remove(shared.pipeline, article_id)
        except RagError as exc:
            return f"⚠ {exc}"

    settings = pipeline.settings
    with gr.Blocks(title=TITLE, analytics_enabled=False, fill_height=True) as demo:
        turns = gr.State([])
        status = gr.HTML(elem_id="status")
        with gr.Tab("Chat"):
            chatbot = gr.Chatbot(
                elem_id="chat",
                show_label=False,
                render_markdown=False,  # messages are our own escaped HTML
                sanitize_html=True,
                height=560,
                layout="bubble",
                buttons=["copy", "copy_all"],  # no share button: conversations stay on this machine
                placeholder="Ask about the articles in Arabic or English. / اسأل عن المقالات بالعربية أو بالإنجليزية.",
            )
            question = gr.Textbox(
                elem_id="question",
                show_label=False,
                placeholder="اكتب سؤالك هنا… / Type your question…",
                submit_btn=True,
                max_lines=6,
            )
            with gr.Row():
                stop_button = gr.Button("Stop", variant="stop", size="sm", elem_id="stop")
                retry_button = gr.Button("Retry", size="sm", elem_id="retry")
                clear_button = gr.Button("Clear", size="sm", elem_id="clear")
            rating_comment = gr.Textbox(
                elem_id="rating-comment", show_label=False, max_lines=2,
                placeholder="A comment to save with your 👍/👎 (optional) / تعليق مع تقييمك (اختياري)",
            )
            gr.Examples(EXAMPLES, inputs=question, label="Examples")
            with gr.Accordion("Settings (shared by everyone using this server)", open=False):
                with gr.Row():
                    backend = gr.Dropdown(list(CHAT_MODELS), value=settings.backend, label="Backend")
                    ollama_model = gr.Textbox(settings.ollama_model, label="Ollama model")
                    top_k = gr.Slider(1, 20, value=settings.top_k, step=1, label="Top-k chunks")
                    temperature = gr.Slider(0.0, 2.0, value=settings.temperature, step=0.1, label="Temperature")
                apply_button = gr.Button("Apply", size="sm")
                # Plain text: a Markdown box would render a model name like ![x](http://host/) as an image fetch.
                settings_message = gr.Textbox(elem_id="settings-message", show_label=False, interactive=False)
        with gr.Tab("Articles"):
            table = gr.Dataframe(
                headers=articles.HEADERS, datatype=["str", "str", "number", "str"],
                interactive=False, wrap=True, elem_id="articles",
            )
            with gr.Row():
                uploads = gr.File(
                    elem_id="uploads",
                    label=f"Add articles (.txt, .md, .html; up to {settings.max_articles_per_upload} at a time)",
                    file_count="multiple",
                    type="filepath",
                )
                with gr.Column():
                    add_button = gr.Button("Add to index", variant="primary")
                    remove_choice = gr.Dropdown([], label="Article to remove", elem_id="remove-choice")
                    remove_button = gr.Button("Remove article", variant="stop")
            articles_message = gr.Textbox(elem_id="articles-message", label="Result", interactive=False, lines=3)
        with gr.Tab("Evaluation") as evaluation_tab:
            run_caption = gr.Textbox(elem_id="run-caption", show_label=False, interactive=False)
            run_table = gr.Dataframe(elem_id="run-table", interactive=False, wrap=True)
            history = gr.Image(elem_id="history", label="History (rag eval history)", type="filepath", interactive=False)
            history_message = gr.Textbox(show_label=False, interactive=False)
            down_table = gr.Dataframe(
                headers=evaluation.DOWN_HEADERS, datatype=["number", "str", "str", "str", "str"], interactive=False,
                wrap=True, elem_id="thumbs-down", label="Answers rated thumbs down",
            )
            with gr.Row():
                down_choice = gr.Dropdown([], label="Answer to promote", elem_id="promote-choice")
                promote_button = gr.Button("Promote to the gold set", elem_id="promote")
            gold_item = gr.Code(language="json", label="Gold item (edit, then save)", elem_id="gold-item", interactive=True)
            save_button = gr.Button(f"Save to {gold_file}", variant="primary", elem_id="save-gold")
            promote_message = gr.Textbox(elem_id="promote-message", show_label=False, interactive=False, lines=3)

        chat_outputs = [question, chatbot, turns]
        # The question shows at once, then waits its turn for the model. The steps before the
        # answer run as soon as they arrive (no concurrency limit); a refusal is a message
        # of its own (the refusing step has no outputs to cover with an error).
        at_once = {"concurrency_limit": None, "api_visibility": "private", **QUIET}
        asking = (
            question.submit(one_question_at_a_time, [turns], None, **at_once)
            .success(wait_to_ask, [question, turns], chat_outputs, **at_once)
            .success(answer, [question, turns], chat_outputs, api_name="ask", **PIPELINE_QUEUE, **QUIET)
        )
        retrying = (
            retry_button.click(one_question_at_a_time, [turns], None, **at_once)
            .success(wait_to_retry, [turns], chat_outputs, **at_once)
            .success(answer, [question, turns], chat_outputs, api_visibility="private", **PIPELINE_QUEUE, **QUIET)
        )
        for answering in (asking, retrying):
            # The first answer loads the model; the status line says so.
            answering.then(
                lambda: status_html(shared.pipeline), None, status, api_visibility="private", **PIPELINE_QUEUE, **QUIET
            )
        # Stop is a flag the answer itself checks: it ends with "(stopped)" and the next click is never lost.
        stop_button.click(stop_answer, None, None, queue=False, api_name="stop")
        gr.on(
            [clear_button.click, chatbot.clear], lambda: ("", [], []), None, chat_outputs,
            cancels=[asking, retrying], api_name="clear", **QUIET,
        )
        chatbot.like(rate, [turns, rating_comment], [rating_comment], api_visibility="private")
        evaluation_tab.select(
            show_evaluation, None, [run_caption, run_table, history, history_message, down_table, down_choice],
            api_visibility="private",
        )
        promote_button.click(promote_draft, [down_choice], [gold_item, promote_message], api_visibility="private")
        save_button.click(save_gold, [gold_item], [promote_message], api_visibility="private")

        listing = [status, table, remove_choice]
        demo.load(refresh, None, listing, api_name="status", **PIPELINE_QUEUE, **QUIET)
        apply_button.click(
            apply_settings, [backend, ollama_model, top_k, temperature], [settings_message, status],
            api_name="apply_settings", **PIPELINE_QUEUE,
        )
        add_button.click(add_files, [uploads], [articles_message], api_name="add_articles", **PIPELINE_QUEUE).then(
            refresh, None, listing, **PIPELINE_QUEUE
        )
        remove_button.click(
            remove_article, [remove_choice], [articles_message], api_name="remove_article", **PIPELINE_QUEUE
        ).then(refresh, None, listing, **PIPELINE_QUEUE)
    demo.queue(default_concurrency_limit=1)
    demo._queue.sleep_when_free = QUEUE_POLL_SECONDS
    demo._queue.progress_update_sleep_when_free = PROGRESS_POLL_SECONDS
    return demo


def launch(
    demo: gr.Blocks,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth=None,
    share: bool = False,
    max_upload_mib: int = Settings.max_upload_mib,
    **options,
):
    """Start the server with the page's theme, CSS and script; `share` alone opens a public link.

    Files over `max_upload_mib` are refused before they are sent (the page names them);
    below that, ingest refuses articles over 5 MiB with its own message."""
    return demo.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        share=share,
        theme=THEME,
        css=CSS,
        head=HEAD,
        max_file_size=max_upload_mib * MIB,
        **options,
    )


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860, auth=None, share: bool = False) -> None:
    launch(
        build_app(Pipeline(settings)), host=host, port=port, auth=auth, share=share,
        max_upload_mib=settings.max_upload_mib,
    )
