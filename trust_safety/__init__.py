"""Trust and safety: the generation gate (prompt and upload moderation), cameo consent,
IP opt-outs, output moderation, reports, enforcement and appeals."""
