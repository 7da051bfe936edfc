"""The chat in the browser: `build_app(pipeline)` lays out the page, `serve` runs it (`rag serve`).

All the work is in `ui.chat`, `ui.articles` and `ui.controls`; this module wires
components to them. Every event that touches the pipeline shares one queue slot
("pipeline"): there is one model, so users wait their turn instead of mixing.
"""
from __future__ import annotations

import gradio as gr

from rag.backends import CHAT_BACKENDS
from rag.errors import RagError
from rag.pipeline import Pipeline
from rag.settings import Settings
from ui import articles, chat
from ui.controls import SharedPipeline, status_html
from ui.feedback import record_feedback
from ui.page import CSS, HEAD

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
RATINGS = {True: "up", False: "down"}
MAX_UPLOAD = "20mb"  # Gradio refuses bigger uploads outright; up to this, ingest explains its own 5 MiB limit


def build_app(pipeline: Pipeline) -> gr.Blocks:
    shared = SharedPipeline(pipeline)
    stop_flags = chat.StopFlags()

    def answer(question, turns, event: gr.EventData, request: gr.Request):
        """Enter asks the question in the box and empties it; Retry asks the last question again."""
        with stop_flags.running(request.session_hash) as stop:
            if event.target is retry_button:
                updates, box = chat.retry(shared.pipeline, turns, stop), gr.skip()
            else:
                updates, box = chat.respond(shared.pipeline, question, turns, stop), ""
            for update in updates:
                if update is None:
                    yield NO_CHANGE
                    continue
                yield box, *update
                box = gr.skip()  # while the answer streams, the box keeps what is typed next

    def stop_answer(request: gr.Request):
        stop_flags.stop(request.session_hash)

    def rate(turns, like: gr.LikeData):
        turn = chat.turn_of_message(turns, like.index)
        if turn is None or turn.answer is None:
            gr.Info("Only finished answers can be rated.")
            return
        rating = RATINGS.get(like.liked, "withdrawn")  # clicking a thumb again takes it back
        record_feedback(shared.pipeline.settings, turn.answer, rating)
        gr.Info("Thanks, your rating was saved.")

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
            gr.Examples(EXAMPLES, inputs=question, label="Examples")
            with gr.Accordion("Settings (shared by everyone using this server)", open=False):
                with gr.Row():
                    backend = gr.Dropdown(list(CHAT_BACKENDS), value=settings.backend, label="Backend")
                    ollama_model = gr.Textbox(settings.ollama_model, label="Ollama model")
                    top_k = gr.Slider(1, 20, value=settings.top_k, step=1, label="Top-k chunks")
                    temperature = gr.Slider(0.0, 2.0, value=settings.temperature, step=0.1, label="Temperature")
                apply_button = gr.Button("Apply", size="sm")
                settings_message = gr.Markdown()
        with gr.Tab("Articles"):
            table = gr.Dataframe(
                headers=articles.HEADERS, datatype=["str", "str", "number", "str"],
                interactive=False, wrap=True, elem_id="articles",
            )
            with gr.Row():
                uploads = gr.File(
                    elem_id="uploads", label="Add articles (.txt, .md, .html)", file_count="multiple", type="filepath"
                )
                with gr.Column():
                    add_button = gr.Button("Add to index", variant="primary")
                    remove_choice = gr.Dropdown([], label="Article to remove", elem_id="remove-choice")
                    remove_button = gr.Button("Remove article", variant="stop")
            articles_message = gr.Textbox(elem_id="articles-message", label="Result", interactive=False, lines=3)

        chat_outputs = [question, chatbot, turns]
        answering = gr.on(
            [question.submit, retry_button.click], answer, [question, turns], chat_outputs,
            api_name="ask", **PIPELINE_QUEUE, **QUIET,
        )
        # The first answer loads the model; the status line says so.
        answering.then(
            lambda: status_html(shared.pipeline), None, status, api_visibility="private", **PIPELINE_QUEUE, **QUIET
        )
        # Stop is a flag the answer itself checks: it ends with "(stopped)" and the next click is never lost.
        stop_button.click(stop_answer, None, None, queue=False, api_name="stop")
        gr.on(
            [clear_button.click, chatbot.clear], lambda: ("", [], []), None, chat_outputs,
            cancels=[answering], api_name="clear", **QUIET,
        )
        chatbot.like(rate, [turns], None, api_visibility="private")

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


def launch(demo: gr.Blocks, *, host: str = "127.0.0.1", port: int = 7860, auth=None, share: bool = False, **options):
    """Start the server with the page's theme, CSS and script; `share` alone opens a public link."""
    return demo.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        share=share,
        theme=THEME,
        css=CSS,
        head=HEAD,
        max_file_size=MAX_UPLOAD,
        **options,
    )


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860, auth=None, share: bool = False) -> None:
    launch(build_app(Pipeline(settings)), host=host, port=port, auth=auth, share=share)
