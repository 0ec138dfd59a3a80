package otelexport

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/goappstats/appstats/recording"
)

// The forms of Retry-After an HTTP collector may give: seconds, an HTTP
// date, and values that are no wait (negative, garbage, a date past),
// which leave exports as they were; the largest is cut to MaxRetryAfter.
func TestRetryAfterForms(t *testing.T) {
	for _, tc := range []struct {
		name     string
		value    func() string
		min, max time.Duration // the wait held, from the answer; 0, 0 for none
	}{
		{"seconds", func() string { return "30" }, 29 * time.Second, 30 * time.Second},
		{"date", func() string { return time.Now().Add(40 * time.Second).UTC().Format(http.TimeFormat) }, 38 * time.Second, 40 * time.Second},
		{"largest", func() string { return "9223372036854775807" }, MaxRetryAfter - time.Second, MaxRetryAfter},
		{"negative", func() string { return "-5" }, 0, 0},
		{"garbage", func() string { return "soon" }, 0, 0},
		{"past int64", func() string { return "99999999999999999999" }, 0, 0}, // otlptracehttp reads no wait
		{"past date", func() string { return time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat) }, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", tc.value())
				http.Error(w, "slow down", http.StatusTooManyRequests)
			}))
			defer ts.Close()
			e, err := NewOTLPHTTP(context.Background(), WithHTTPOptions(otlptracehttp.WithEndpointURL(ts.URL),
				otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false})))
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close(context.Background())
			if err := e.Write(context.Background(), []*recording.Record{testRecord(1)}); err != nil {
				t.Fatal(err)
			}
			flushFailed(t, e, 1, "slow down")
			if e.Stats().Errors != 1 {
				t.Fatalf("stats %+v; want one failed export", e.Stats())
			}
			answer := e.cfg.watch.answered(time.Now())
			if tc.max == 0 {
				if !e.retryAt.IsZero() {
					t.Errorf("Retry-After %q held exports until %v; want no wait", tc.value(), e.retryAt)
				}
				return
			}
			if d := e.retryAt.Sub(answer); d < tc.min || d > tc.max {
				t.Errorf("Retry-After %q held exports %v from the answer; want %v to %v", tc.value(), d, tc.min, tc.max)
			}
		})
	}
}

// retryableError has the name of otlptracehttp's, in another package: its
// throttle is not read.
type retryableError struct{ throttle time.Duration }

func (retryableError) Error() string { return "look-alike" }

// gRPC's RetryInfo without a delay, or a negative one, is no wait; an error
// that only looks like otlptracehttp's, or wraps nil, neither.
func TestRetryAfterNoWait(t *testing.T) {
	withInfo := func(ri *errdetails.RetryInfo) error {
		st, err := status.New(codes.ResourceExhausted, "slow down").WithDetails(ri)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Errorf("traces export: %w", st.Err())
	}
	for name, err := range map[string]error{
		"RetryInfo without delay": withInfo(&errdetails.RetryInfo{}),
		"RetryInfo negative":      withInfo(&errdetails.RetryInfo{RetryDelay: durationpb.New(-time.Minute)}),
		"look-alike":              fmt.Errorf("x: %w", retryableError{throttle: time.Hour}),
		"joined nil":              errors.Join(nil, errors.New("plain")),
	} {
		if d := retryAfter(err); d != 0 {
			t.Errorf("%s: retryAfter = %v; want 0", name, d)
		}
	}
	if d := retryAfter(withInfo(&errdetails.RetryInfo{RetryDelay: durationpb.New(5 * time.Second)})); d != 5*time.Second {
		t.Errorf("RetryInfo of 5 s: retryAfter = %v", d)
	}
}
