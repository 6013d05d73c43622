"""The worker host: containers, images, the egress lock, watchdogs, GPUs."""
