#!/bin/sh
# The API's process settings, in front of every way it runs: the image's CMD (so Compose and
# Kubernetes), `pnpm start`, `pnpm dev` and the bench all run `sh run.sh <node arguments>`, and
# node replaces this shell (same pid: PID 1 in a container, signals go to node). A value already in
# the environment wins over each default below (set NODE_OPTIONS to change the flags; repeat the
# ones you keep). Measured by `pnpm bench --only mixed` (README, bench section).
#
# V8's heap. Node 22+ sizes the young generation from the memory it sees: 64 MB semi-spaces on the
# 24 GiB bench machine or under Compose (no memory limit), about 1 MB in a 512Mi pod. Pinned so that
# every environment runs the heap the bench measured: 4 MB semi-spaces (157 MB RSS at the end of
# the mixed run against 191 with 16 MB and 247 with V8's sizing on that machine; no CPU cost seen),
# and 256 MB of old generation, what Node picks by itself for the 512Mi pod (about 45 MB is live).
: "${NODE_OPTIONS=--max-semi-space-size=4 --max-old-space-size=256}"
# glibc's malloc. Each password hash (scrypt, N=16384, r=8) takes a 16 MB buffer on a libuv thread;
# with the default dynamic threshold glibc serves the later ones from per-thread arenas and keeps
# them resident after the hash. A fixed threshold mmaps every allocation of 128 KiB or more and
# returns it when freed (and arenas trim at 128 KiB): 139 MB RSS instead of 157 in the mixed run.
# glibc reads it when the process starts, so it has to be in the environment before node runs.
: "${MALLOC_MMAP_THRESHOLD_=131072}"
export NODE_OPTIONS MALLOC_MMAP_THRESHOLD_
exec node "$@"
