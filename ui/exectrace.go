package ui

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// execTraceJSON describes a record's execution trace in the API; the data
// is served apart (apiExecTrace).
type execTraceJSON struct {
	Size   int64  `json:"size"`
	Taken  string `json:"taken"`
	Reason string `json:"reason"`
	URL    string `json:"url"` // relative to the record's URL
}

func toExecTraceJSON(r *recording.Record) *execTraceJSON {
	t := r.ExecTrace
	if t == nil {
		return nil
	}
	return &execTraceJSON{Size: t.Size, Taken: t.Taken.UTC().Format(time.RFC3339Nano), Reason: t.Reason,
		URL: r.ID.String() + "/trace"}
}

// execTraceFile names the file a record's execution trace downloads as.
func execTraceFile(id recording.ID) string { return "appstats-" + id.String() + ".trace" }

// apiExecTrace serves GET api/records/{id}/trace: the record's execution
// trace, for `go tool trace`, as a download. 404 when the record has none
// or the store keeps none.
func (h *handler) apiExecTrace(w http.ResponseWriter, r *http.Request) {
	id, err := recording.ParseID(r.PathValue("id"))
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, "malformed record id")
		return
	}
	ts, ok := h.st.(store.ExecTraceStore)
	if !ok {
		h.fail(w, r, http.StatusNotFound, "the store keeps no execution traces")
		return
	}
	data, err := ts.ExecTrace(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		h.fail(w, r, http.StatusNotFound, "no execution trace for this record")
		return
	}
	if err != nil {
		h.storeError(w, r, err)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/octet-stream")
	// The ID is 32 hex digits: safe in the header.
	hd.Set("Content-Disposition", `attachment; filename="`+execTraceFile(id)+`"`)
	hd.Set("Content-Length", strconv.Itoa(len(data)))
	hd.Set("Cache-Control", noStore) // admin-only data: see noStore
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(data)
	}
}
