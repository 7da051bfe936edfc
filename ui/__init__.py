"""The Gradio chat UI. Importing the package turns Gradio's usage analytics off before Gradio loads."""
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
