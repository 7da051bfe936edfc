"""`rag bench answer`: its arguments, the settings it hands to `rag serve`, and its report
(the benchmark's timings are not tested here)."""
import pytest

from rag.bench.answer import bench_answer, browser_report, parse_budgets, settings_env
from rag.cli import build_parser, main
from rag.settings import load_settings
from ui import browser
from ui.browser import shown_seconds


def test_by_default_it_compares_this_process_with_the_browser_on_three_questions():
    args = build_parser().parse_args(["bench", "answer"])
    assert args.handler.resolve() is bench_answer and args.n == 3 and args.budgets is None


def test_budgets_switch_to_the_in_process_budget_comparison():
    args = build_parser().parse_args(["bench", "answer", "--budgets", "300,900", "-n", "2"])
    assert parse_budgets(args.budgets) == [300, 900] and args.n == 2


@pytest.mark.parametrize(
    "argv, message",
    [
        (["-n", "0"], "-n takes 1 to 5 questions, not 0."),
        (["-n", "9"], "-n takes 1 to 5 questions, not 9."),
        (["--budgets", "300"], "--budgets takes two token budgets, such as 300,900; not '300'."),
        (["--budgets", "300,lots"], "--budgets takes two token budgets"),
        (["--budgets", "0,900"], "--budgets takes two token budgets"),
    ],
)
def test_bad_arguments_are_one_clear_line_before_anything_loads(argv, message, capsys):
    assert main(["bench", "answer", *argv]) == 1
    assert message in capsys.readouterr().err


def test_without_chromium_the_browser_benchmark_says_what_to_install(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "no-chromium")
    assert main(["bench", "answer", "-n", "1"]) == 1
    assert "needs Debian's Chromium" in capsys.readouterr().err


def test_the_server_gets_the_same_settings_through_its_environment(tmp_path):
    settings, _ = load_settings({"home": str(tmp_path), "top_k": 7, "temperature": 0.3, "ollama_host": "http://127.0.0.1:9"})
    assert load_settings(environ=settings_env(settings))[0] == settings


def test_the_report_pairs_each_question_s_browser_times_with_its_in_process_times():
    in_process = [
        {"first_token_s": 8.0, "first_words_s": 9.0, "total_s": 12.0},
        {"first_token_s": 7.0, "first_words_s": 8.0, "total_s": 11.0},
        {"first_token_s": 9.0, "first_words_s": 10.0, "total_s": 13.0},
    ]
    in_browser = [
        {"sources_s": 0.4, "first_words_s": 8.6, "final_s": 12.5, "model_first_token_s": 8.1, "model_total_s": 12.2},
        {"sources_s": 0.6, "first_words_s": 7.2, "final_s": 11.4, "model_first_token_s": 6.9, "model_total_s": 11.1},
        {"sources_s": None, "first_words_s": 9.9, "final_s": 13.6, "model_first_token_s": None, "model_total_s": None},
    ]
    report = browser_report("model", ["q1", "q2", "q3"], in_process, in_browser, outside=[])
    assert report["in_process"] == {"median_first_token_s": 8.0, "median_first_words_s": 9.0, "median_total_s": 12.0}
    assert report["browser"]["median_sources_s"] == 0.5, "a decline shows no passages and is left out"
    assert report["browser"]["median_model_first_token_s"] == 7.5
    assert report["browser_first_words_minus_model_first_token_s"] == 0.6  # median of 0.6, 0.2, 0.9
    assert report["browser_first_words_minus_in_process_first_words_s"] == -0.4  # median of -0.4, -0.8, -0.1
    assert report["sources_after_enter_s"] == 0.5
    assert list(report["targets_met"].values()) == [True, False]
    assert report["per_question"][2] == {"question": "q3", "in_process": in_process[2], "browser": in_browser[2]}


@pytest.mark.parametrize(
    "meta, timings",
    [
        ("qwen2.5-coder-1.5b-instruct-q4_k_m (embedded) · first token 7.9 s · total 12.3 s", (7.9, 12.3)),
        ("qwen2.5-coder-1.5b-instruct-q4_k_m (embedded) · أول رمز 8.0 s · المجموع 11.0 s", (8.0, 11.0)),
        ("qwen2.5-coder-1.5b-instruct-q4_k_m (embedded)", (None, None)),
        ("", (None, None)),
    ],
)
def test_the_model_s_own_timings_are_read_from_the_answer_s_meta_line(meta, timings):
    assert shown_seconds(meta) == timings
