package storekit

import "time"

// Time units of [SplitRange], in nanoseconds.
const (
	NsMinute = int64(time.Minute)
	NsHour   = int64(time.Hour)
)

// FloorDiv divides rounding down, also for negative a (times before 1970).
func FloorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Parts receives the parts of a time range from [SplitRange]. Each function
// is called once per contiguous part, never with an empty one.
type Parts struct {
	// Records gets the partial minutes at the range's edges, as Unix
	// nanoseconds [a, b): only the records themselves can answer for them.
	Records func(a, b int64) error
	// Minutes gets whole minutes outside whole hours, as minute numbers
	// [a, b) (minute m spans [m·NsMinute, (m+1)·NsMinute)).
	Minutes func(a, b int64) error
	// Hours gets whole hours, as hour numbers [a, b).
	Hours func(a, b int64) error
}

// SplitRange cuts the time range [a, b) (Unix nanoseconds) into the parts a
// store with minute and hour rollups answers from each kind of data: whole
// hours from hour rollups, the remaining whole minutes from minute rollups,
// and the partial minutes at the two edges from records, so that a range
// costs two edge scans and at most 118 minute rollups plus its hours. The
// first error a function returns stops the split and is returned.
func SplitRange(a, b int64, p Parts) error {
	if a >= b {
		return nil
	}
	ma := -FloorDiv(-a, NsMinute) // first whole minute
	mb := FloorDiv(b, NsMinute)   // end of the last whole minute
	if ma >= mb {
		return p.Records(a, b)
	}
	if a < ma*NsMinute {
		if err := p.Records(a, ma*NsMinute); err != nil {
			return err
		}
	}
	if mb*NsMinute < b {
		if err := p.Records(mb*NsMinute, b); err != nil {
			return err
		}
	}
	ha, hb := -FloorDiv(-ma, 60), FloorDiv(mb, 60)
	if ha >= hb {
		return p.Minutes(ma, mb)
	}
	if ma < ha*60 {
		if err := p.Minutes(ma, ha*60); err != nil {
			return err
		}
	}
	if err := p.Hours(ha, hb); err != nil {
		return err
	}
	if hb*60 < mb {
		return p.Minutes(hb*60, mb)
	}
	return nil
}
