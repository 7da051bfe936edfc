"""The page's own CSS, the one script it needs (a citation badge opens and shows its source),
and the content security policy that keeps the page from loading anything from elsewhere.

Nothing on the page moves while an answer is being written (no spinner, no pulsing
border, the ▍ cursor does not blink): on a two-core machine every repainted frame is
CPU the model does not get, and llama.cpp's two threads wait for each other at every step.
"""

CSS = """
.msg p { margin: 0 0 .4em; line-height: 1.7; }
.msg[dir=rtl] { text-align: right; }
.msg[dir=ltr] { text-align: left; }
#question textarea { unicode-bidi: plaintext; text-align: start; }

/* Translucent fills and theme variables, so light and dark mode both read well. */
.cite {
  display: inline-block; min-width: 1.3em; margin: 0 .15em; padding: 0 .3em;
  border-radius: .6em; font-size: .72em; line-height: 1.4; vertical-align: super;
  text-align: center; text-decoration: none; font-weight: 600; cursor: pointer;
}
.cite.supported { background: #d7f0dd; color: #175c2c; }
.cite.unsupported { background: #fbe0dc; color: #8a2417; }
.cite.pending { background: #e6e6e6; color: #555; cursor: default; }

.sentence.unsupported { background: rgba(255, 184, 0, .2); border-bottom: 2px dotted #c98a00; cursor: help; }
.msg .mark { color: #c98a00; font-weight: 700; }
.msg.abstained { color: var(--body-text-color-subdued); font-style: italic; }
.msg.abstained .mark { color: #4a7bd0; font-style: normal; }
.msg.error { color: #d04a35; }
.msg .cursor { opacity: .5; }
.reading { margin-top: .3em; font-size: .85em; color: var(--body-text-color-subdued); }
.reading-list { list-style: none; padding: 0; margin: .2em 0 0; }
.reading-list li { margin: 0 0 .15em; cursor: help; }
.msg .stopped-note, .where, .msg .meta, .status { color: var(--body-text-color-subdued); }
.where, .msg .meta { font-size: .8em; }
.status { font-size: .9em; }
.status.error { color: #d04a35; }

details.sources { margin-top: .5em; border-top: 1px solid var(--border-color-primary); padding-top: .3em; }
details.sources summary { cursor: pointer; font-weight: 600; }
.source-list { list-style: none; padding: 0; margin: .4em 0 0; }
.source {
  margin: 0 0 .6em; padding: .4em .6em; border-radius: 4px;
  background: var(--background-fill-secondary); border-inline-start: 4px solid #999;
}
.source.supported { border-inline-start-color: #2e9a4f; }
.source.unsupported { border-inline-start-color: #d04a35; }
.source.mixed { border-inline-start-color: #c98a00; }
.source.flash { outline: 2px solid #4a7bd0; }
.source-head { display: flex; gap: .6em; align-items: baseline; flex-wrap: wrap; }
.cite-number, .headline { font-weight: 600; }
.verdict.supported { color: #2e9a4f; }
.verdict.unsupported { color: #d04a35; }
.verdict.mixed { color: #c98a00; }
.passage { margin: .3em 0; padding: 0; border: 0; white-space: pre-wrap; }
.passage mark { background: rgba(255, 214, 0, .45); color: inherit; padding: 0 .1em; }
"""

# Everything the page loads comes from this server: an image, a stylesheet, a frame or a
# connection to any other host is refused by the browser, so even text that some component
# rendered as HTML or markdown (an ![x](http://host/?q=...) image) could not send the chat away.
# Escaping in ui/render.py is what keeps articles and answers inert; this is the second wall.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    # Gradio's page and ours are inline scripts, and gr.HTML compiles its template with Function().
    "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "frame-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
])

POLICY_META = f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'

HEAD = POLICY_META + """
<script>
document.addEventListener("click", (event) => {
  const badge = event.target.closest && event.target.closest("a.cite");
  if (!badge) return;
  const source = document.getElementById(decodeURIComponent(badge.hash.slice(1)));
  if (!source) return;
  event.preventDefault();
  const details = source.closest("details");
  if (details) details.open = true;
  source.scrollIntoView({ block: "nearest", behavior: "smooth" });
  document.querySelectorAll(".source.flash").forEach((old) => old.classList.remove("flash"));
  source.classList.add("flash");
}, true);
</script>
"""
