"""Getting Documents in: files for replay, and (later stages) feeds and pages for the live service."""
