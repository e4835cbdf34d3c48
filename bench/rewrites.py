"""How often the private-name rewrite fires on prompts that name no private person.

Every prompt of the project's labelled sets (tests/data/*.jsonl, English and the twelve other
languages) is read by the ``private_names`` stage with its identified language. None of them
names a private person, so every rewrite is a false one unless it hides a public figure the
public-figure stage refuses anyway (a misspelt "Mark Zuckerburg"); those are counted apart.
The last line is one JSON object. Usage: python bench/rewrites.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trust_safety.moderation.artists import load_default_artists  # noqa: E402
from trust_safety.moderation.figures import PublicFigureStage, load_default_figures  # noqa: E402
from trust_safety.moderation.language import identify  # noqa: E402
from trust_safety.moderation.normalise import normalise  # noqa: E402
from trust_safety.moderation.private_names import private_name_stage  # noqa: E402
from trust_safety.moderation.stages import ModerationContext  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"


def main() -> int:
    figures = load_default_figures()
    names = private_name_stage(figures, load_default_artists())
    public = PublicFigureStage.with_offices(figures)
    read = false_rewrites = figure_rewrites = 0
    examples: list[str] = []
    for path in sorted(DATA.glob("prompts*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            text = json.loads(line).get("text")
            if not isinstance(text, str):
                continue
            read += 1
            prompt = normalise(text)
            context = ModerationContext(language=identify(text).code)
            if names.evaluate(prompt, context).rewrite is None:
                continue
            if public.evaluate(prompt, context).scores:
                figure_rewrites += 1
            else:
                false_rewrites += 1
                examples.append(text)
    for text in examples[:20]:
        print(f"false rewrite: {text}")
    print(
        json.dumps(
            {
                "prompts": read,
                "false_private_name_rewrites": false_rewrites,
                "false_rewrite_rate": round(false_rewrites / max(1, read), 4),
                "rewrites_of_refused_public_figures": figure_rewrites,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
