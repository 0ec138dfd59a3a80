// Package faults is the project's fault-injection suite: the ways an unlucky
// operator or a hostile client can hurt a service that embeds appstats — a
// full disk, a corrupt data directory, huge headers and call strings,
// unbounded route cardinality, DNS rebinding against the dashboard, a stuck
// sink, a shutdown with dashboards open — each reproduced against real
// components (a real filesystem, Badger, loopback HTTP and gRPC, Chromium)
// and asserted to leave the host app serving.
//
// The package holds only tests. Tests that need root (to mount a small
// filesystem) skip with a message when not root, unless
// APPSTATS_REQUIRE_ROOT=1 (set by .ci/run), in which case they fail.
package faults
