"""`rag bench model`: its arguments and prompts."""
from rag.bench.model import _messages, bench_model
from rag.cli import build_parser


def test_each_run_s_prompt_differs_from_its_first_tokens():
    first, second = _messages("run 0", "نص"), _messages("run 1", "نص")
    assert first[0].content[:6] != second[0].content[:6]
    assert first[1].content == second[1].content


def test_the_command_takes_a_number_of_runs():
    args = build_parser().parse_args(["bench", "model", "--runs", "5"])
    assert args.runs == 5 and args.handler.resolve() is bench_model
