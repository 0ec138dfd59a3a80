package ui_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/badgerstore"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/ui"
)

// TestDamagedRecord: a record whose stored data is damaged — its value in
// Redis overwritten by hand, or its entries in Badger — is answered, on its
// page and its JSON, with 500 (the server's data, not the request, is at
// fault) and a message that says the record's data is damaged and names
// the record. On main redisstore's was 500 "store error", which said
// neither, and badgerstore's 404 "record not found", which blamed the
// request. The record's trace view (traces/{trace}?record=) and a
// comparison with it say the same as its page; the other records of its
// trace are still shown, without it (redisstore's trace view failed whole,
// 500 "store error").
func TestDamagedRecord(t *testing.T) {
	// Half an hour before the current hour: every record in one hour,
	// whenever the test runs.
	start := time.Now().Truncate(time.Hour).Add(-30 * time.Minute)
	recs := make([]*recording.Record, 3)
	for i := range recs {
		recs[i] = makeRecord(start.Add(time.Duration(i)*time.Second), uint64(i+1), "/damaged/"+strconv.Itoa(i), 200, 3)
		recs[i].TraceID = recs[0].TraceID
	}
	bad, good := recs[1], recs[2]
	for _, tc := range []struct {
		name string
		open func(t *testing.T) store.Store
	}{
		{"redisstore", func(t *testing.T) store.Store {
			r := testservers.StartRedis(t)
			ctx := context.Background()
			s, err := redisstore.Open(ctx, "redis://"+r.Addr, redisstore.Options{Prefix: "dmg", FoldInterval: -1, RetentionInterval: -1, WriteTimeout: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			if err := s.Write(ctx, recs); err != nil {
				t.Fatal(err)
			}
			c := redis.NewClient(&redis.Options{Addr: r.Addr})
			defer c.Close()
			recsKey := "{dmg:" + strconv.FormatInt(start.Unix()/3600, 10) + "}:r"
			if n, err := c.HSet(ctx, recsKey, string(bad.ID[:]), "garbage").Result(); err != nil || n != 0 {
				t.Fatalf("HSET %s over the record = %d, %v; want 0 (a field replaced)", recsKey, n, err)
			}
			return s
		}},
		{"badgerstore", func(t *testing.T) store.Store {
			dir := t.TempDir()
			s, err := badgerstore.Open(dir, badgerstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Write(context.Background(), recs); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			// The record's summary entry and full record, as
			// badgerstore keys them (s | start | id, f | id), replaced
			// by bytes that do not decode.
			db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
			if err != nil {
				t.Fatal(err)
			}
			sk := binary.BigEndian.AppendUint64([]byte{'s'}, uint64(bad.Start.UnixNano())^(1<<63))
			err = db.Update(func(txn *badger.Txn) error {
				if err := txn.Set(append(sk, bad.ID[:]...), []byte("garbage")); err != nil {
					return err
				}
				return txn.Set(append([]byte{'f'}, bad.ID[:]...), []byte{'F', 1, 1, 2, 3})
			})
			if cerr := db.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatal(err)
			}
			s, err = badgerstore.Open(dir, badgerstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.open(t)
			if _, err := s.Get(context.Background(), bad.ID); err == nil {
				t.Fatal("Get of the damaged record succeeded: the test did not damage it")
			}
			srv := httptest.NewServer(ui.NewHandler(s))
			defer srv.Close()
			get := func(path string) (int, string) {
				t.Helper()
				resp, err := srv.Client().Get(srv.URL + path)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				if err != nil {
					t.Fatal(err)
				}
				return resp.StatusCode, string(b)
			}
			id := bad.ID.String()
			code, body := get("/stats/api/records/" + id)
			var e struct{ Error string }
			if err := json.Unmarshal([]byte(body), &e); err != nil {
				t.Fatalf("api/records/{damaged}: %d %s: %v", code, body, err)
			}
			if code != http.StatusInternalServerError || !strings.Contains(e.Error, "record "+id) || !strings.Contains(e.Error, "damaged") {
				t.Errorf("api/records/{damaged} = %d %q; want 500 with an error naming record %s and saying it is damaged", code, e.Error, id)
			}
			for _, path := range []string{
				"/stats/records/" + id,
				"/stats/traces/" + bad.TraceID.String() + "?record=" + id,
				"/stats/compare?a=" + id + "&b=" + good.ID.String(),
				"/stats/api/compare?a=" + good.ID.String() + "&b=" + id,
			} {
				code, body = get(path)
				if code != http.StatusInternalServerError || !strings.Contains(body, "record "+id) || !strings.Contains(body, "damaged") {
					t.Errorf("%s = %d; want 500 with a page naming record %s and saying it is damaged; body:\n%s", path, code, id, body)
				}
			}
			// The others are read as before, and the damaged record is
			// left out of its trace's view.
			if code, body := get("/stats/api/records/" + good.ID.String()); code != http.StatusOK {
				t.Errorf("api/records/{good} = %d %s", code, body)
			}
			code, body = get("/stats/traces/" + good.TraceID.String() + "?record=" + good.ID.String())
			if code != http.StatusOK || !strings.Contains(body, good.Path) || strings.Contains(body, bad.Path) {
				t.Errorf("traces/{trace}?record={good} = %d; want 200 showing %s and not the damaged %s; body:\n%s", code, good.Path, bad.Path, body)
			}
		})
	}
}
