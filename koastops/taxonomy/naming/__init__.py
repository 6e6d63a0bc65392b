"""The naming-rules engine: pure Python, no Django (the taxonomy app stores the rules).

`rule = compile_rule(document)` once, then `rule.validate(name)` per name.
"""

from .engine import (
    BuildError,
    Choice,
    CompiledRule,
    Error,
    Result,
    TokenInfo,
    compile_rule,
)
from .spec import (
    DateToken,
    FreeToken,
    NumberToken,
    RuleSpec,
    SpecError,
    SpecProblem,
    TokenSpec,
    VocabularyToken,
    VocabularyValue,
    parse_spec,
)

__all__ = [
    "BuildError",
    "Choice",
    "CompiledRule",
    "DateToken",
    "Error",
    "FreeToken",
    "NumberToken",
    "Result",
    "RuleSpec",
    "SpecError",
    "SpecProblem",
    "TokenInfo",
    "TokenSpec",
    "VocabularyToken",
    "VocabularyValue",
    "compile_rule",
    "parse_spec",
]
