#!/bin/sh
# The API's process settings, in front of every way it runs: the image's CMD (so Compose and
# Kubernetes), `pnpm start`, `pnpm dev` and the bench all run `sh run.sh <node arguments>`, and
# node replaces this shell (same pid: PID 1 in a container, signals go to node). A value already in
# the environment wins over each default below (set NODE_OPTIONS to change the flags; repeat the
# ones you keep). Measured by `pnpm bench --only mixed` (README, bench section).
#
# V8's heap. Node 22+ sizes the young generation from the memory it sees: 64 MB semi-spaces on the
# 24 GiB bench machine or under Compose (no memory limit), about 1 MB in a 512Mi pod (Node's docs
# for --max-semi-space-size). Pinned so that every environment runs the heap the bench measured,
# with 256 MB of old generation (what Node picks by itself for the 512Mi pod; about 45 MB is live). The semi-space size trades memory for
# CPU under concurrency: with the 600 connections of the cold-start burst
# (`tsx --conditions=source bench/young-gen.ts`, against V8's 64 MB, three runs) 4 MB cost 1.2-1.5x
# CPU per request, 8 and 16 MB 1.03-1.35x, 32 MB 1.03x in each: requests in flight outgrow
# a small young generation and get promoted. At the mixed run's 400 req/s, 4 MB would give 141 MB
# RSS (the issue's goal is 150) and 32 MB gives 191 MB (225 with V8's sizing in the same run, no
# CPU cost measured there); 32 MB, for the burst this service exists to survive.
: "${NODE_OPTIONS=--max-semi-space-size=32 --max-old-space-size=256}"
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
