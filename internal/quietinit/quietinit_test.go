package quietinit

import "testing"

func TestWantsTUI(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{nil, true},
		{[]string{"demo"}, true},
		{[]string{"--storage", "file"}, true},
		{[]string{"--config-dir", "token", "demo", "--access-ttl", "10s"}, true},
		{[]string{"--config-dir=/tmp/x"}, true},
		{[]string{"token", "prod"}, false},
		{[]string{"--storage", "demo", "list"}, false},
		{[]string{"exec", "prod", "--", "demo"}, false},
		{[]string{"--help"}, true},
		{[]string{"--", "demo"}, false},
		{[]string{"har", "capture.har"}, true},
		{[]string{"--storage", "file", "har", "x.har"}, true},
		{[]string{"har", "analyze", "x.har"}, false},
		{[]string{"har", "sanitize", "x.har"}, false},
		{[]string{"har"}, false},
		{[]string{"--etcd-prefix", "demo", "list"}, false},
	} {
		if got := WantsTUI(tc.args); got != tc.want {
			t.Errorf("WantsTUI(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
}
