package version

import (
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	cases := []struct {
		info debug.BuildInfo
		want string
	}{
		{debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.3"}}, "v1.2.3 (go1.26.0)"},
		{debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}, {Key: "vcs.time", Value: "2026-04-10T12:00:00Z"},
		}}, "(devel) (commit 0123456789ab, modified, 2026-04-10T12:00:00Z, go1.26.0)"},
		{debug.BuildInfo{}, "(devel)"},
	}
	for _, tc := range cases {
		if got := fromBuildInfo(&tc.info); got != tc.want {
			t.Errorf("fromBuildInfo(%+v) = %q, want %q", tc.info.Main, got, tc.want)
		}
	}
}
