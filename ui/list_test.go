package ui

import (
	"reflect"
	"slices"
	"testing"

	"github.com/tokentop/tokentop/internal/present"
)

// TestLayoutColumns pins which of the TUI's columns survive at each width:
// narrow terminals drop history first, then identity details, and keep the
// name readable, the countdowns and the state.
func TestLayoutColumns(t *testing.T) {
	natural := map[present.ColumnID]int{present.ColName: 15, present.ColUser: 20, present.ColRole: 8, present.ColOrg: 4}
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
		{0, []string{"NAME"}}, // before the first size
	}
	for _, tt := range tests {
		cols := layoutColumns(tt.width, natural)
		var titles []string
		for _, c := range cols {
			titles = append(titles, c.Title)
			if (c.ID == present.ColName || c.ID == present.ColRole) && tt.width >= 60 && c.Width < natural[c.ID] {
				t.Errorf("width %d: %s is %d cells, cutting %d-character content", tt.width, c.Title, c.Width, natural[c.ID])
			}
		}
		if !reflect.DeepEqual(titles, tt.want) {
			t.Errorf("width %d: columns %q, want %q", tt.width, titles, tt.want)
		}
		// STATE, unmeasured here, takes what is left; without it the
		// room no column needs stays empty.
		total := present.TableWidth(cols, markerW)
		if tt.width > 0 && (total > tt.width || (slices.Contains(titles, "STATE") && total != tt.width)) {
			t.Errorf("width %d: columns fill %d cells", tt.width, total)
		}
	}
}

// On a wide terminal the spare width goes to USER and STATE as far as
// their content needs, and no further: nothing is padded out to the edge.
func TestLayoutColumnsWide(t *testing.T) {
	natural := map[present.ColumnID]int{present.ColName: 15, present.ColUser: 34, present.ColRole: 8, present.ColOrg: 4, present.ColState: 39}
	cols := layoutColumns(200, natural)
	got := map[present.ColumnID]int{}
	for _, c := range cols {
		got[c.ID] = c.Width
	}
	if len(cols) != 9 {
		t.Fatalf("%d columns at 200, want all 9", len(cols))
	}
	if got[present.ColUser] != 34 || got[present.ColState] != 39 || got[present.ColName] != 15 {
		t.Errorf("USER %d, STATE %d, NAME %d cells; want their content's 34, 39, 15", got[present.ColUser], got[present.ColState], got[present.ColName])
	}
	if w := present.TableWidth(cols, markerW); w >= 200 {
		t.Errorf("the table fills %d of 200 cells", w)
	}
	// At 120 STATE is not squeezed below its minimum to give USER room.
	cols = layoutColumns(120, natural)
	for _, c := range cols {
		if c.ID == present.ColState && c.Width < 18 {
			t.Errorf("STATE %d cells at 120", c.Width)
		}
	}
}
