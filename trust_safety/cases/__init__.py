"""Reports, triage, enforcement, statements of reasons, appeals, notifications and
transparency numbers: the part of trust and safety that people can see and contest."""
