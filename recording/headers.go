package recording

// SetHeaders keeps the request's headers for the full record, within the
// recorder's header caps ([WithMaxHeaders]): a value over its cap is cut,
// values past the total are left out and counted under [HeaderTruncated]. It
// copies them with one allocation (and one per value it cuts) — the header
// map may change after the request ends — and leaves building the map and
// redacting it to the recorder's writer, off the request path. Like
// [ActiveRecord.Record], it is for the goroutine that started the record.
func (a *ActiveRecord) SetHeaders(h map[string][]string) {
	if a == nil || h == nil {
		return
	}
	a.r.hdrFlat = a.rec.cfg.flatHeaders(h)
}

// headerMap builds the redacted header map of a record from the pairs
// SetHeaders kept. It runs in the writer goroutine, which alone uses the
// recorder's cache of which header names are secret.
func (r *Recorder) headerMap(flat []string) map[string][]string {
	out := make(map[string][]string, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		out[flat[i]] = append(out[flat[i]], flat[i+1])
	}
	red := &r.cfg.redaction
	for k, vs := range out {
		out[k] = red.headerValues(k, vs, r.secretKey(k))
	}
	return out
}

// secretKey reports whether a header name or an attribute key is secret
// ([Redaction.secretHeader]), from a cache: a record's names repeat from
// record to record. It runs in the writer goroutine, which alone uses the
// cache.
func (r *Recorder) secretKey(k string) bool {
	secret, ok := r.secretNames[k]
	if !ok {
		if len(r.secretNames) >= 4096 {
			clear(r.secretNames)
		}
		secret = r.cfg.redaction.secretHeader(k)
		r.secretNames[k] = secret
	}
	return secret
}
