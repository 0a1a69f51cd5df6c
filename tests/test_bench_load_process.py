"""The bench's load process answers every call whole, however large, after the uvloop runs
its calls make (a first-pages answer is about 200 KB: three pipe buffers and more)."""

from __future__ import annotations

from bench.http import LoadProcess
from tests.load_support import connect_then_answer

ANSWER = 200_000
CALLS = 40


def test_answers_larger_than_a_pipe_arrive_whole_after_uvloop_runs() -> None:
    process = LoadProcess()
    try:
        for i in range(CALLS):
            size = ANSWER + i
            answer = process.call(connect_then_answer, 16, size, timeout=60)
            assert len(answer) == size, f"call {i}"
    finally:
        process.close()
