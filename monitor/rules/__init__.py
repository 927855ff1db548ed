"""Rules: loading and validating rule files, compiling them into a matcher, rule tests."""

from monitor.rules.loader import RuleSet, load_rules
from monitor.rules.matcher import Hit, Match, Matcher

__all__ = ["Hit", "Match", "Matcher", "RuleSet", "load_rules"]
