"""Rule profiles (DESIGN §5a): deadlines and article numbers as data (:mod:`hzeval.rules.profile`).

Floor 2: never imports metrics; what a metric cites under the profiles is
:mod:`hzeval.metrics.profiles`."""

from hzeval.rules.profile import (
    ARTICLE_PATTERN,
    DEFAULT_FROM,
    DEFAULT_PROFILE,
    KNOWN_DEADLINE_KEYS,
    DeadlineRule,
    MetricNeeds,
    Profile,
    RuleError,
    RuleSet,
    Span,
    Strict,
    articles_for,
    deadline_text,
    default_profile,
    default_rules,
    install,
    load_profile,
    packaged_profile_path,
    provision,
    provision_text,
    resolve,
    run_deadline_texts,
    run_provision,
    run_provision_text,
    run_rules,
    spans_text,
    year_deadlines,
)

__all__ = ["ARTICLE_PATTERN", "DEFAULT_FROM", "DEFAULT_PROFILE", "KNOWN_DEADLINE_KEYS", "DeadlineRule", "MetricNeeds",
           "Profile", "RuleError", "RuleSet", "Span", "Strict", "articles_for", "deadline_text", "default_profile",
           "default_rules", "install", "load_profile", "packaged_profile_path", "provision", "provision_text",
           "resolve", "run_deadline_texts", "run_provision", "run_provision_text", "run_rules", "spans_text",
           "year_deadlines"]
