"""Stories: which reports belong together, and what each match of a rule raises.

Each new Document joins a story, chosen by the story grouper the Pipeline is given (`base.StoryGrouper`);
`copies` groups near-identical texts. For each (rule, story) the first match raises an alert and later
ones inside the rule's `realert` window become its follow-ups (`decisions`).
"""

from monitor.stories.base import StoryAssignment, StoryGrouper
from monitor.stories.copies import CopyGrouper, item_keys, text_fingerprint
from monitor.stories.decisions import DEFAULT_REALERT, AlertDecision, Decision, alert_id, decide

__all__ = [
    "DEFAULT_REALERT",
    "AlertDecision",
    "CopyGrouper",
    "Decision",
    "StoryAssignment",
    "StoryGrouper",
    "alert_id",
    "decide",
    "item_keys",
    "text_fingerprint",
]
