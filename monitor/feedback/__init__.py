"""Feedback from Slack: subscribers answer alerts with buttons, the effects live in the store.

buttons (on alert messages) -> receiver (Socket Mode, slack-bolt) -> actions (validate, apply, reply)
-> store (mutes, snoozes, marks) -> hold stage (notify: muted / snoozed alerts counted, not posted)
-> export (marks as rule-test cases for `monitor rules test`)
"""
