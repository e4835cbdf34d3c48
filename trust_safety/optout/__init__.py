"""IP opt-out registry: rights holders keep their works out of prompts, outputs and training."""
