"""Chat mode for instruct models: ask for the function, then pull the code out of the reply.

Instruct models continue a raw prompt with prose more often than with code, and code fences or
stop words cut their answers early. In chat mode the problem's prompt is sent inside a user message
and the reply's first fenced code block (else the whole reply) becomes the completion. The reply is
usually a whole function, not a body: it is appended after the prompt on a new line, so the program
is the prompt's stub (a valid function whose body is its docstring) redefined by the model's code.
"""

from __future__ import annotations

import re

from humaneval_lab.problems import Problem

INSTRUCTION = (
    "Complete the following {language} function. Reply with the complete function, including the "
    "signature and any imports it needs, in a single ```{language} code block.\n\n"
    "```{language}\n{prompt}\n```"
)

_FENCE = re.compile(r"```[ \t]*([\w+#.-]*)[ \t]*\n(.*?)(?:\n[ \t]*```|\Z)", re.DOTALL)


def messages_for(problem: Problem) -> tuple[dict[str, str], ...]:
    text = INSTRUCTION.format(language=problem.language, prompt=problem.prompt.rstrip("\n"))
    return ({"role": "user", "content": text},)


def extract_code(reply: str, language: str) -> tuple[str, str]:
    """The code in a reply and how it was found: "fenced" (a block tagged with this language, else
    the first block) or "raw" (no fence: the whole reply)."""
    blocks = _FENCE.findall(reply)
    if not blocks:
        return reply, "raw"
    aliases = {language.lower(), {"python": "py", "javascript": "js", "cpp": "c++"}.get(language, language)}
    for tag, body in blocks:
        if tag.lower() in aliases:
            return body, "fenced"
    return blocks[0][1], "fenced"


def completion_from_code(code: str) -> str:
    """What to put after the prompt: top-level code goes on a new line after the prompt; a bare,
    indented body continues the prompt's function as it is."""
    first = next((line for line in code.splitlines() if line.strip()), "")
    if first[:1] in (" ", "\t"):
        return code if code.endswith("\n") else code + "\n"
    return "\n" + code + ("" if code.endswith("\n") else "\n")
