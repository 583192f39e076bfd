#!/bin/sh
# The API's process settings, in front of every way it runs: the image's CMD (so Compose and
# Kubernetes), `pnpm start`, `pnpm dev` and the bench all run `sh run.sh <node arguments>`, and
# node replaces this shell (same pid: PID 1 in a container, signals go to node). A value already in
# the environment wins over each default below (set NODE_OPTIONS to change the flags; repeat the
# ones you keep). Measured by `pnpm bench --only mixed` (README, bench section).
#
# V8's heap. Node 22+ sizes the young generation from the memory it sees: 64 MB semi-spaces on the
# 24 GiB bench machine or under Compose (no memory limit), about 1 MB in a 512Mi pod. Pinned so that
# every environment runs the heap the bench measured: 4 MB semi-spaces and 256 MB of old
# generation, what Node picks by itself for the 512Mi pod (about 45 MB is live). In the mixed run
# (malloc settings aside) 4 MB gave 159 MB RSS against 171 with 8, 191 with 16 and 176-283 with V8's
# own sizing; GC took 46 us per request against 35 with 8 and 16 with V8's (of about 1000 us CPU).
: "${NODE_OPTIONS=--max-semi-space-size=4 --max-old-space-size=256}"
# glibc's malloc. Each password hash (scrypt, N=16384, r=8) takes a 16 MB buffer on a libuv thread.
# With the default dynamic mmap threshold glibc serves the later ones from per-thread arenas and
# keeps them resident after the hash: up to 4 x 16 MB with the 4 hashes PASSWORD_HASH_MAX_CONCURRENT
# allows. A fixed threshold of 128 KiB mmaps every allocation that large and unmaps it when freed
# (and trims the arenas at 128 KiB); hugetlb=1 asks for transparent huge pages on those mappings
# (THP "madvise" or "always" on the node), so a fresh 16 MB buffer costs 8 page faults, not 4096.
# `tsx --conditions=source bench/malloc.ts`: 72 MB RSS after 4-at-a-time hashes against 135 with
# glibc's defaults, CPU per hash 1.01x; the threshold without hugetlb cost 1.18x (page faults).
# glibc reads this when the process starts: it has to be in the environment before node runs.
: "${GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072:glibc.malloc.hugetlb=1}"
export NODE_OPTIONS GLIBC_TUNABLES
exec node "$@"
