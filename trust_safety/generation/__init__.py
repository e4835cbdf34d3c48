"""The generation gate: requests, the prompt-moderation processor, state polling, list edits."""
