package secretcorpus_test

import (
	"fmt"

	"github.com/goappstats/appstats/recording"
)

// Each input of the corpus is hidden the way the recorder's default
// redaction hides it: by the words of its name, by its shape, inside URLs
// nested in a value, in the quoted fragments of an error message.
func Example() {
	r := recording.DefaultRedaction()
	fmt.Println(r.Query("pass=hunter2&author=ann&ref=4111111111111111&next=http://u:pw@h/?token=t"))
	fmt.Println(r.Text("/reset/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"))
	fmt.Println(r.Error(`near "'hunter2'": syntax error`))
	fmt.Println(r.SecretName("X-Client-Cert"), r.SecretName(":authority"), r.SecretName("key1"))
	// Output:
	// pass=[REDACTED]&author=ann&ref=[REDACTED]&next=http://[REDACTED]@h/?token=[REDACTED]
	// /reset/[REDACTED]
	// near "[REDACTED]": syntax error
	// true false false
}
