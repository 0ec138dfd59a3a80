package faults_test

import (
	"encoding/json"
	"io"
)

// jsonDecode decodes one JSON value from r into v.
func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }
