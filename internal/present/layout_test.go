package present

import (
	"reflect"
	"testing"
)

// tuiIDs are the TUI's columns.
var tuiIDs = []ColumnID{ColName, ColUser, ColRole, ColOrg, ColAccess, ColBar, ColRefresh, ColState, ColLastRefresh}

// naturals gives each of cols its natural width from m (0: not measured).
func naturals(cols []Column, m map[ColumnID]int) []int {
	out := make([]int, len(cols))
	for i, c := range cols {
		out[i] = m[c.ID]
	}
	return out
}

func titles(cols []Placed) []string {
	var out []string
	for _, c := range cols {
		out = append(out, c.Title)
	}
	return out
}

// TestLayoutWidths checks what holds at every width from 40 to 250: the
// line fits, the order is the table's, only the lowest priorities are
// dropped and only when the next one could not fit, no column is cut below
// its least width or grown past its content, and the GrowsLast column gets
// room only after every other has its content's.
func TestLayoutWidths(t *testing.T) {
	sets := []struct {
		name    string
		cols    []Column
		natural map[ColumnID]int
		lead    int
	}{
		{"tui", PickColumns(tuiIDs...), map[ColumnID]int{ColName: 15, ColUser: 34, ColRole: 8, ColOrg: 4, ColState: 39}, 2},
		{"tui long names", PickColumns(tuiIDs...), map[ColumnID]int{ColName: 40, ColUser: 60, ColRole: 13, ColOrg: 9, ColState: 90}, 2},
		{"all", SessionColumns(), map[ColumnID]int{ColName: 12, ColStorage: 7, ColUser: 20, ColRole: 8, ColOrg: 5, ColAccessExpires: 20, ColRefreshExpires: 20, ColState: 30}, 0},
	}
	for _, set := range sets {
		nat := naturals(set.cols, set.natural)
		for width := 40; width <= 250; width++ {
			got := Layout(set.cols, nat, width, set.lead)
			if w := TableWidth(got, set.lead); w > width {
				t.Errorf("%s at %d: %d cells", set.name, width, w)
			}
			kept := map[ColumnID]Placed{}
			prev := -1
			for _, c := range got {
				kept[c.ID] = c
				if int(c.ID) <= prev {
					t.Errorf("%s at %d: out of order: %q", set.name, width, titles(got))
				}
				prev = int(c.ID)
			}
			lowKept, highDropped := 1<<30, -1
			var firstDropped *Column
			for i, c := range set.cols {
				n := nat[i]
				lo := max(c.Min, min(n, c.Keep))
				p, ok := kept[c.ID]
				if !ok {
					if c.Priority > highDropped {
						highDropped = c.Priority
						cc := c
						firstDropped = &cc
					}
					continue
				}
				lowKept = min(lowKept, c.Priority)
				if p.Width < lo {
					t.Errorf("%s at %d: %s %d cells, below its least %d", set.name, width, c.Title, p.Width, lo)
				}
				if c.Max > 0 && p.Width > max(c.Max, lo) || n > 0 && p.Width > max(n, lo) {
					t.Errorf("%s at %d: %s %d cells, more than it needs", set.name, width, c.Title, p.Width)
				}
				if c.GrowsLast && p.Width > lo {
					for j, o := range set.cols {
						if q, ok := kept[o.ID]; ok && !o.GrowsLast && nat[j] > 0 && q.Width < highest(o, nat[j]) {
							t.Errorf("%s at %d: %s grew while %s is %d of %d", set.name, width, c.Title, o.Title, q.Width, nat[j])
						}
					}
				}
			}
			if highDropped >= lowKept {
				t.Errorf("%s at %d: dropped priority %d but kept %d: %q", set.name, width, highDropped, lowKept, titles(got))
			}
			if firstDropped != nil {
				// The next column to go back would not have fitted.
				with := Layout(append(colsOf(got), *firstDropped), nil, 0, 0)
				least := set.lead
				for i, c := range with {
					if i > 0 {
						least += ColumnGap
					}
					least += max(c.Min, min(set.natural[c.ID], c.Keep))
				}
				if least <= width {
					t.Errorf("%s at %d: dropped %s although it fits: %q", set.name, width, firstDropped.Title, titles(got))
				}
			}
		}
	}
}

// highest is how wide c grows for content n cells wide.
func highest(c Column, n int) int {
	lo := max(c.Min, min(n, c.Keep))
	if c.Max > 0 {
		return max(min(n, c.Max), lo)
	}
	return max(n, lo)
}

func colsOf(ps []Placed) []Column {
	out := make([]Column, len(ps))
	for i, p := range ps {
		out[i] = p.Column
	}
	return out
}

// TestLayoutDrops pins which columns survive at each width: narrow
// terminals drop history first, then identity details, and keep the name
// readable, the countdowns and the state.
func TestLayoutDrops(t *testing.T) {
	cols := PickColumns(tuiIDs...)
	nat := naturals(cols, map[ColumnID]int{ColName: 15, ColUser: 20, ColRole: 8, ColOrg: 4})
	tests := []struct {
		width int
		want  []string
	}{
		{250, []string{"NAME", "USER", "ROLE", "ORG", "ACCESS", "", "REFRESH", "STATE", "LAST REFRESH"}},
		{120, []string{"NAME", "USER", "ROLE", "ORG", "ACCESS", "", "REFRESH", "STATE", "LAST REFRESH"}},
		{100, []string{"NAME", "USER", "ROLE", "ACCESS", "", "REFRESH", "STATE"}},
		{80, []string{"NAME", "USER", "ACCESS", "REFRESH", "STATE"}},
		{60, []string{"NAME", "ACCESS", "REFRESH", "STATE"}},
		{50, []string{"NAME", "ACCESS", "STATE"}},
		{40, []string{"NAME", "ACCESS"}},
		{30, []string{"NAME", "ACCESS"}},
		{20, []string{"NAME"}},
		{5, []string{"NAME"}},
	}
	for _, tt := range tests {
		got := Layout(cols, nat, tt.width, 2)
		if !reflect.DeepEqual(titles(got), tt.want) {
			t.Errorf("width %d: columns %q, want %q", tt.width, titles(got), tt.want)
		}
		// STATE, not measured here, takes what is left.
		if w := TableWidth(got, 2); w != tt.width && got[len(got)-1].ID == ColState {
			t.Errorf("width %d: columns fill %d cells", tt.width, w)
		}
	}
}

// TestLayoutKeep: a column with Keep is not cut below that much of its
// content while a lower-priority column could go instead, and one without
// is cut to its Min.
func TestLayoutKeep(t *testing.T) {
	cols := []Column{
		{ID: 0, Title: "A", Min: 4, Max: 30, Keep: 12, Priority: 100},
		{ID: 1, Title: "B", Min: 4, Max: 30, Priority: 90},
		{ID: 2, Title: "C", Min: 10, Max: 10, Priority: 10},
	}
	nat := []int{20, 20, 10}
	tests := []struct {
		width   int
		widths  []int
		columns int
	}{
		{64, []int{20, 20, 10}, 3},
		{40, []int{20, 6, 10}, 3}, // A grows first, B gets what is left
		{30, []int{12, 4, 10}, 3}, // A keeps 12, B its Min
		{29, []int{20, 7}, 2},     // C goes rather than A going below 12
		{17, []int{17}, 1},        // B goes too
		{3, []int{12}, 1},         // the last column stays, whole
	}
	for _, tt := range tests {
		got := Layout(cols, nat, tt.width, 0)
		var ws []int
		for _, c := range got {
			ws = append(ws, c.Width)
		}
		if !reflect.DeepEqual(ws, tt.widths) {
			t.Errorf("width %d: widths %v, want %v", tt.width, ws, tt.widths)
		}
	}
}

// TestLayoutGrowsLast: spare room goes by priority, the GrowsLast column
// last whatever its priority; room nobody needs stays empty.
func TestLayoutGrowsLast(t *testing.T) {
	cols := []Column{
		{ID: 0, Title: "LOW", Min: 5, Max: 20, Priority: 10},
		{ID: 1, Title: "LAST", Min: 5, Max: 50, Priority: 99, GrowsLast: true},
		{ID: 2, Title: "MID", Min: 5, Max: 20, Priority: 50},
	}
	nat := []int{15, 40, 15}
	tests := []struct {
		width  int
		widths []int
	}{
		{19, []int{5, 5, 5}},
		{29, []int{5, 5, 15}},  // MID first
		{39, []int{15, 5, 15}}, // then LOW
		{49, []int{15, 15, 15}},
		{100, []int{15, 40, 15}}, // 21 cells left empty
	}
	for _, tt := range tests {
		got := Layout(cols, nat, tt.width, 0)
		var ws []int
		for _, c := range got {
			ws = append(ws, c.Width)
		}
		if !reflect.DeepEqual(ws, tt.widths) {
			t.Errorf("width %d: widths %v, want %v", tt.width, ws, tt.widths)
		}
	}
	// Not measured and unbounded, it takes the rest.
	free := cols
	free[1].Max = 0
	got := Layout(free, []int{15, 0, 15}, 100, 0)
	if got[1].Width != 100-4-30 {
		t.Errorf("unmeasured GrowsLast column %d cells, want the rest", got[1].Width)
	}
}

// TestLayoutNoLimit: with no width (a pipe) every column stays, each as
// wide as its content, past its Max.
func TestLayoutNoLimit(t *testing.T) {
	cols := SessionColumns()
	nat := make([]int, len(cols))
	for i := range nat {
		nat[i] = 70
	}
	got := Layout(cols, nat, 0, 0)
	if len(got) != len(cols) {
		t.Fatalf("%d of %d columns", len(got), len(cols))
	}
	for _, c := range got {
		if c.Width != 70 {
			t.Errorf("%s: %d cells, want its content's 70", c.Title, c.Width)
		}
	}
}
