"""The worker host: containers, images, the egress lock, watchdogs, GPUs.

sandbox.py        Sandbox: runs, stops and reaps containers (with images.py, the only Docker user)
containers.py     its pure half: ContainerSpec, ContainerRun, output tails, labels
images.py         ImageBuilder: content-tagged image builds, the offline Debian base
build_context.py  its pure half: an image's build context tar and the sources its tag hashes
egress.py         the egress lock: agent networks reach the model proxy and nothing else
watchdog.py       DiskWatchdog: kills a container that writes past its disk quota
gpus.py           the host's GPUs, their routing tags and one-per-cell slots
"""
