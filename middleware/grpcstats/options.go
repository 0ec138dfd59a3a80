package grpcstats

// An Option configures a server or client handler.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	summary func(fullMethod string, msg any) string
}

func newConfig(opts []Option) config {
	var c config
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	return c
}

// WithMessageSummary makes client handlers record a summary of the first
// message sent and the first message received by each call, as the call's
// Request and Response, truncated to the recorder's summary length
// ([recording.WithMaxSummary]). f gets the
// full method and the message (usually a proto.Message) and must be safe for
// concurrent use; it runs on the RPC's path, so it should be cheap.
//
// Message bodies are not recorded by default: they can hold personal data or
// secrets that redaction cannot see. f is responsible for leaving them out.
// Server handlers ignore this option: a [recording.Record] has no message
// summaries.
func WithMessageSummary(f func(fullMethod string, msg any) string) Option {
	return optionFunc(func(c *config) { c.summary = f })
}
