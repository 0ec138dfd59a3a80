package convention

import "time"

// SetPositive stores v in *dst if v > 0. It is how appstats' options treat
// sizes, counts and durations: zero or a negative value keeps the default.
func SetPositive[T int | int64 | time.Duration](dst *T, v T) {
	if v > 0 {
		*dst = v
	}
}

// SetNonNil stores v in *dst if v is not nil. It is how appstats' options
// treat a logger, a hook or another pointer: nil keeps what was set before.
func SetNonNil[T any](dst **T, v *T) {
	if v != nil {
		*dst = v
	}
}
