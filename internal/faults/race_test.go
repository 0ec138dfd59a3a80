//go:build race

package faults_test

// raceEnabled reports whether the race detector is on: it makes each
// request of a flood about ten times slower.
const raceEnabled = true
