// Package testlog holds what the project's tests give a logger, a command
// or a child process to write to while they read it.
package testlog

import (
	"bytes"
	"sync"
)

// Buffer is a bytes.Buffer that may be written from any goroutine (a
// logger's, a command's) while the test reads it. The zero value is an
// empty buffer ready to use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p to the buffer.
func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns what was written so far.
func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
