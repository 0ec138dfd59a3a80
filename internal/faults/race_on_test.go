//go:build race

package faults_test

// raceDetector is set when the tests run with -race, whose shadow memory
// makes a process's RSS no measure of what the code itself holds.
const raceDetector = true
