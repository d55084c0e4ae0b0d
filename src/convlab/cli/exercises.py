"""``convlab exercises``: the lesson's five exercises, answered at a prompt or checked from a script."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "exercises",
        help="do the lesson's exercises, with checking, hints and solutions",
        description="Without arguments: the five exercises one after another at a prompt (type 'hint', "
        "'solution', 'skip' or 'quit' instead of an answer). With numbers: only those exercises.\n"
        "`convlab exercises check N ANSWER` checks one answer and exits 0 if right, 1 if wrong (with a hint).\n"
        "`convlab exercises solution N` prints the worked solution.",
        epilog="examples:\n  convlab exercises\n  convlab exercises 3\n"
        '  convlab exercises check 3 "(1, 2, 6, 6)"\n'
        '  convlab exercises check 5 "x.permute(0, 3, 1, 2)"',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "words", nargs="*", metavar="ARG", help="exercise numbers, or check N ANSWER, or solution N"
    )
    parser.set_defaults(run=run)


def _number(text: str) -> int:
    from ..errors import ArgumentError

    if not text.isdigit():
        raise ArgumentError(f"exercise numbers are 1 to 5, got {text!r}", fix="convlab exercises check 3 1,2,6,6")
    return int(text)


def run(args: argparse.Namespace) -> int:
    from ..errors import ArgumentError
    from ..lesson import exercises

    words = args.words
    if words and words[0] == "check":
        if len(words) < 3:
            raise ArgumentError("check needs an exercise number and an answer", fix="convlab exercises check 2 4")
        verdict = exercises.check(_number(words[1]), " ".join(words[2:]))
        print(("right: " if verdict.correct else "not yet: ") + verdict.message)
        return 0 if verdict.correct else 1
    if words and words[0] in ("solution", "solve"):
        if len(words) != 2:
            raise ArgumentError("solution needs one exercise number", fix="convlab exercises solution 2")
        exercise = exercises.get(_number(words[1]))
        print(f"Exercise {exercise.number}: {exercise.task}\n{exercise.solution}")
        return 0
    numbers = [_number(word) for word in words] or [exercise.number for exercise in exercises.EXERCISES]
    for number in numbers:
        exercises.get(number)  # refuse unknown numbers before starting
    return interactive(numbers)


def interactive(numbers: list[int]) -> int:
    """Ask each exercise at a prompt until it is answered, skipped or the learner quits."""
    from ..lesson import exercises

    right = 0
    for position, number in enumerate(numbers, start=1):
        exercise = exercises.get(number)
        print(f"\nExercise {number} ({position} of {len(numbers)}): {exercise.task}")
        print(f"Type {exercise.prompt}; or 'hint', 'solution', 'skip', 'quit'.")
        hint = exercise.hint
        while True:
            try:
                answer = input("answer> ").strip()
            except EOFError:
                print()
                answer = "quit"
            command = answer.lower()
            if command in ("quit", "exit", "q"):
                print(f"\n{right} of {position - 1} answered right. Bye!")
                return 0
            if command == "skip":
                break
            if command == "hint":
                print(f"hint: {hint}")
                continue
            if command in ("solution", "solve", "show"):
                print(exercise.solution)
                break
            if not answer:
                continue
            verdict = exercise.checker(answer)
            if verdict.correct:
                right += 1
                print(f"right! {verdict.message}")
                break
            hint = verdict.message
            print(f"not yet. {verdict.message}")
    print(f"\n{right} of {len(numbers)} answered right.")
    return 0
