"""The relative paths a trial's command names as its script (``python3 run_trial.py``,
``bash -euo pipefail -c "cd x && sh fit.sh"``): read as the interpreters and shells read their
words, so that an option's value or a module is never taken for a script. The local launcher
names such a path before the first trial when it is not where the trial starts."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

SCRIPT_SUFFIXES = (".py", ".sh", ".R", ".jl")
"""The endings of a word that names a script (Python, shell, R, Julia)."""
_INTERPRETER = re.compile(r"^(python[0-9.]*|sh|bash|dash|zsh|Rscript|julia)$")
"""A command whose first argument that is not an option is its script."""
_LINE_SHELLS = ("sh", "bash", "dash", "zsh")
_SHELL_LINE_OPTION = re.compile(r"^-[A-Za-z]*c[A-Za-z]*$")
"""A shell's ``-c``, alone or among its one-letter options (``-lc``, ``-ec``, ``-xc``)."""
_OPTIONS_WITH_A_VALUE = {
    "python": ("-W", "-X", "--check-hash-based-pycs"),
    "julia": ("-t", "--threads", "-p", "--procs", "--project", "-J", "--sysimage"),
    "shell": ("-o", "-O"),
}
"""The options of an interpreter whose next word is their value, not its script (a shell's
also among its one-letter options: :func:`_values_taken`)."""
_SHELL_OPTIONS = re.compile(r"^[-+][A-Za-z]+$")
"""A shell's one-letter options, one or more in a word (``-euo``, ``+o``, ``-xec``)."""


def _values_taken(interpreter: str, word: str) -> int:
    """How many of the words after ``word`` are its options' values: a shell (bash, dash, zsh)
    reads one word for each ``o`` (``O``) among a word's one-letter options, in order, wherever
    it stands (``-euo pipefail``, ``-oe pipefail``, ``-o pipefail -O extglob``); another
    interpreter one for each option of :data:`_OPTIONS_WITH_A_VALUE`."""
    if interpreter == "shell":
        return sum(letter in "oO" for letter in word[1:]) if _SHELL_OPTIONS.match(word) else 0
    return int(word in _OPTIONS_WITH_A_VALUE.get(interpreter, ()))


def _interpreter_kind(token: str) -> str:
    name = Path(token).name
    return "shell" if name in _LINE_SHELLS else "julia" if name == "julia" else "python" if name.startswith("python") else name


def shell_line_at(words: list[str]) -> int | None:
    """Where the line of an ``sh -c LINE`` (``bash -o pipefail -lc LINE``) command is: the first
    word after the shell's options, where one of them is ``-c``; None for any other command."""
    if not words or Path(words[0]).name not in _LINE_SHELLS:
        return None
    reads_a_line, skip = False, 0
    for index, word in enumerate(words[1:], start=1):
        if skip:  # an -o's value
            skip -= 1
            continue
        skip = _values_taken("shell", word)
        if _SHELL_LINE_OPTION.match(word):
            reads_a_line = True
        elif not word.startswith(("-", "+")):
            return index if reads_a_line else None
    return None


def script_words(words: list[str]) -> list[str]:
    """The relative paths in a command that look like a script: a word ending in one of
    :data:`SCRIPT_SUFFIXES`, or the first word after a known interpreter that is neither an
    option nor an option's value (:data:`_OPTIONS_WITH_A_VALUE`); none after ``-m`` or ``-c``
    (``-lc``): a module, a line. In an ``sh -c`` line (``bash -lc``), its words. No word with a
    parameter, a space, an option (``--config=a.py``) or an absolute path (:meth:`~kfp_tune.launchers.local.LocalLauncher.unmounted_paths`)."""
    line_at = shell_line_at(words)
    tokens: list[str] = []
    for index, word in enumerate(words):
        if line_at is not None and index >= line_at:  # Katib's shell form joins them into the line
            try:
                line = shlex.split(word)
            except ValueError:  # an unterminated quote: the words as they are
                line = word.split()
            if "cd" not in line:  # after a cd, the folder a path is relative to is not known here
                tokens.extend(line)
        elif line_at is None:  # not the sh -c before a line
            tokens.append(word)
    found: list[str] = []
    interpreter = ""  # the kind of the interpreter whose script is not named yet
    skip = 0
    for token in tokens:
        if skip:  # an option's value
            skip -= 1
            continue
        relative = bool(token) and not token.startswith(("-", "/", "~", "$")) and not any(c in token for c in "= \t\n") and "${" not in token
        if relative and (interpreter or token.endswith(SCRIPT_SUFFIXES)):
            found.append(token)
        skip = _values_taken(interpreter, token) if interpreter else 0
        ends = token in ("-m", "-c", "-e") or (interpreter == "shell" and bool(_SHELL_LINE_OPTION.match(token)))
        if interpreter and (not token.startswith("-") or ends):
            interpreter = ""  # its script (or module, or line) is named
        elif not interpreter and _INTERPRETER.match(Path(token).name):
            interpreter = _interpreter_kind(token)
    return found
