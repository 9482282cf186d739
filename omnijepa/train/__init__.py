"""Training: loop, schedules, EMA hand-off, checkpoint/resume, logging, torchrun DDP."""
