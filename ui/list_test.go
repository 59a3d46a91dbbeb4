package ui

import (
	"reflect"
	"slices"
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
		// STATE, unmeasured here, takes what is left; without it the
		// room no column needs stays empty.
		if total > tt.width || (slices.Contains(titles, "STATE") && total != tt.width) {
			t.Errorf("width %d: columns fill %d cells", tt.width, total)
		}
	}
}

// On a wide terminal the spare width goes to USER and STATE as far as
// their content needs, and no further: nothing is padded out to the edge.
func TestLayoutColumnsWide(t *testing.T) {
	natural := map[colID]int{colName: 15, colUser: 34, colRole: 8, colOrg: 4, colState: 39}
	cols := layoutColumns(200, natural)
	got := map[colID]int{}
	for _, c := range cols {
		got[c.id] = c.min
	}
	if len(cols) != 9 {
		t.Fatalf("%d columns at 200, want all 9", len(cols))
	}
	if got[colUser] != 34 || got[colState] != 39 || got[colName] != 15 {
		t.Errorf("USER %d, STATE %d, NAME %d cells; want their content's 34, 39, 15", got[colUser], got[colState], got[colName])
	}
	if w := tableWidth(cols); w >= 200 {
		t.Errorf("the table fills %d of 200 cells", w)
	}
	// At 120 STATE is not squeezed below its minimum to give USER room.
	cols = layoutColumns(120, natural)
	for _, c := range cols {
		if c.id == colState && c.min < 18 {
			t.Errorf("STATE %d cells at 120", c.min)
		}
	}
}
