package ui

import (
	"reflect"
	"testing"
)

// TestLayoutColumns pins which columns survive at each width: narrow
// terminals drop history first, then identity details, and keep the name
// readable, the countdowns and the state.
func TestLayoutColumns(t *testing.T) {
	natural := map[colID]int{colName: 15, colUser: 20, colRole: 8, colOrg: 4}
	tests := []struct {
		width int
		want  []string
	}{
		{120, []string{"NAME", "USER", "ROLE", "ORG", "ACCESS", "", "REFRESH", "STATE", "LAST REFRESH"}},
		{100, []string{"NAME", "USER", "ROLE", "ACCESS", "", "REFRESH", "STATE"}},
		{80, []string{"NAME", "USER", "ACCESS", "REFRESH", "STATE"}},
		{60, []string{"NAME", "ACCESS", "REFRESH", "STATE"}},
		{30, []string{"NAME", "ACCESS"}},
		{20, []string{"NAME"}},
	}
	for _, tt := range tests {
		cols := layoutColumns(tt.width, natural)
		var titles []string
		total := markerW
		for i, c := range cols {
			titles = append(titles, c.title)
			if i > 0 {
				total += colGap
			}
			total += c.min
			if (c.id == colName || c.id == colRole) && tt.width >= 60 && c.min < natural[c.id] {
				t.Errorf("width %d: %s is %d cells, cutting %d-character content", tt.width, c.title, c.min, natural[c.id])
			}
		}
		if !reflect.DeepEqual(titles, tt.want) {
			t.Errorf("width %d: columns %q, want %q", tt.width, titles, tt.want)
		}
		if total != tt.width {
			t.Errorf("width %d: columns fill %d cells", tt.width, total)
		}
	}
}
