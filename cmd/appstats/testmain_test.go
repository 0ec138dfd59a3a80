package main

import (
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/logging"
)

func TestMain(m *testing.M) {
	// As main does: go-redis's failed-dial lines stay out of the output.
	redis.SetLogger(&logging.VoidLogger{})
	os.Exit(m.Run())
}
