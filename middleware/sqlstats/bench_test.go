package sqlstats_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/XSAM/otelsql"
	"github.com/goappstats/appstats/internal/cputime"
	"github.com/goappstats/appstats/middleware/sqlstats"
	"github.com/goappstats/appstats/recording"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// discard is an OTel span exporter that drops everything.
type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

func benchDB(b *testing.B, db *sql.DB) {
	b.Helper()
	db.SetMaxOpenConns(1) // one in-memory database
	b.Cleanup(func() { db.Close() })
	for _, q := range []string{
		"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)",
		"INSERT INTO users (name) VALUES ('ann'), ('bob')",
	} {
		if _, err := db.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
}

func benchQuery(b *testing.B, ctx context.Context, db *sql.DB) {
	var name string
	if err := db.QueryRowContext(ctx, "SELECT name FROM users WHERE id = ?", 2).Scan(&name); err != nil || name != "bob" {
		b.Fatal(name, err)
	}
}

// BenchmarkQuery runs one SELECT on an in-memory sqlite table: bare, wrapped
// in a recorded request (a new record every 500 queries, with the default
// 16-frame stacks), wrapped without a recorded request, and with otelsql
// (SDK tracer, always sample, batch processor, discarding exporter).
func BenchmarkQuery(b *testing.B) {
	b.Run("bare", func(b *testing.B) {
		db, err := sql.Open("sqlite", ":memory:")
		if err != nil {
			b.Fatal(err)
		}
		benchDB(b, db)
		ctx := context.Background()
		b.ReportAllocs()
		defer cputime.MeterThread(b)()
		for b.Loop() {
			benchQuery(b, ctx, db)
		}
	})
	b.Run("wrapped-unrecorded", func(b *testing.B) {
		db, err := sqlstats.Open("sqlite", ":memory:")
		if err != nil {
			b.Fatal(err)
		}
		benchDB(b, db)
		ctx := context.Background()
		b.ReportAllocs()
		defer cputime.MeterThread(b)()
		for b.Loop() {
			benchQuery(b, ctx, db)
		}
	})
	b.Run("wrapped-recorded", func(b *testing.B) {
		db, err := sqlstats.Open("sqlite", ":memory:", sqlstats.WithSystem("sqlite"))
		if err != nil {
			b.Fatal(err)
		}
		benchDB(b, db)
		rec := recording.New(recording.WithSinks(recording.SinkFunc(func(context.Context, []*recording.Record) error { return nil })))
		defer rec.Close(context.Background())
		ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground})
		n := 0
		b.ReportAllocs()
		defer cputime.MeterThread(b)()
		for b.Loop() {
			if n++; n == 500 {
				b.StopTimer()
				ar.Finish()
				ctx, ar = rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground})
				n = 0
				b.StartTimer()
			}
			benchQuery(b, ctx, db)
		}
		ar.Finish()
	})
	b.Run("otelsql", func(b *testing.B) {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithBatcher(discard{}))
		defer tp.Shutdown(context.Background())
		db, err := otelsql.Open("sqlite", ":memory:", otelsql.WithTracerProvider(tp))
		if err != nil {
			b.Fatal(err)
		}
		benchDB(b, db)
		ctx, span := tp.Tracer("bench").Start(context.Background(), "request")
		defer span.End()
		b.ReportAllocs()
		defer cputime.MeterThread(b)()
		for b.Loop() {
			benchQuery(b, ctx, db)
		}
	})
}
