package codec_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/internal/codec"
	"github.com/goappstats/appstats/store/storetest"
)

func ExampleAppendRecord() {
	r := storetest.Record20(time.Unix(1700000000, 0), 1)
	b := codec.AppendRecord(nil, r)
	got, err := codec.DecodeRecord(b)
	fmt.Println(len(b), len(got.Calls), got.Calls[19].Stack[11].Function, err)

	_, err = codec.DecodeRecord(b[:100])
	fmt.Println(errors.Is(err, store.ErrCorrupt))
	// Output:
	// 3113 20 net/http.(*conn).serve <nil>
	// true
}
