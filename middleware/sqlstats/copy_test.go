package sqlstats

import "testing"

func TestCopyStatement(t *testing.T) {
	for _, tt := range []struct {
		query string
		copy  bool
		table string
	}{
		{`COPY "users" ("name", "age") FROM STDIN`, true, "users"},
		{"  copy users FROM STDIN WITH (FORMAT csv)", true, "users"},
		{`COPY "s"."My ""odd"" table" FROM STDIN`, true, `s.My "odd" table`},
		{`COPY public.t(a) FROM STDIN`, true, "public.t"},
		{"COPY (SELECT 1) TO STDOUT", true, ""},
		{"COPYRIGHT", false, ""},
		{"SELECT 1", false, ""},
		{"COPY", false, ""},
	} {
		if got := isCopy(tt.query); got != tt.copy {
			t.Errorf("isCopy(%q) = %v", tt.query, got)
		}
		if !tt.copy {
			continue
		}
		if got := copyTable(NormalizeFor("postgresql", tt.query)); got != tt.table {
			t.Errorf("copyTable(%q) = %q, want %q", tt.query, got, tt.table)
		}
	}
}
