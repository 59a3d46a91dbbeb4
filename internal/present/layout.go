package present

import (
	"math"
	"sort"
)

// ColumnID names a column of the session table.
type ColumnID int

// The session table's columns, in the one order `list` and the TUI show
// them. Each shows the ones its medium has: `list` the absolute expiries
// and STORAGE, the TUI the lifetime bar and LAST REFRESH.
const (
	ColName ColumnID = iota
	ColStorage
	ColUser
	ColRole
	ColOrg
	ColAccess
	ColBar
	ColAccessExpires
	ColRefresh
	ColRefreshExpires
	ColState
	ColLastRefresh
)

// ColumnGap is the blank cells between two columns.
const ColumnGap = 2

// KeepAll as a Column's Keep keeps all of its content before a column of
// lower priority is dropped.
const KeepAll = math.MaxInt32

// Column is a column of the session table and how it gives way on a narrow
// terminal: the lowest Priority is dropped first, and a column is cut
// (with "…") no narrower than Min, nor than Keep cells of its widest
// content, before that.
type Column struct {
	ID    ColumnID
	Title string
	// Min is the fewest cells it gets; Max how far it grows (0: no bound,
	// as far as its content, or the rest of the line if not measured).
	Min, Max int
	// Keep is how much of its widest content the column keeps before
	// lower-priority columns are dropped: "legacy-pa…" cannot be told from
	// its neighbours, and "Stan…" is not a role.
	Keep     int
	Priority int
	Right    bool
	// GrowsLast gets the spare width after every other column has its
	// content's: its text varies, and it says the most when cut.
	GrowsLast bool
}

// SessionColumns are every column of the session table, in order. Their
// sizes fit the TUI's cells (fixed-width countdowns, room for the notes
// STATE shows after a refresh); `list`, whose cells are words and hold
// no notes, sizes them by its content (see listColumn). Priorities are what a support
// engineer looks at first: which session (NAME), whether it works now
// (ACCESS, STATE), where its tokens are (STORAGE, when it varies),
// whether it will keep working (REFRESH), whose it is (USER), then the
// bar, ROLE and ORG; LAST REFRESH and the absolute expiries repeat what
// the countdowns and the inspector say, so they go first.
func SessionColumns() []Column {
	return []Column{
		{ID: ColName, Title: "NAME", Min: 10, Max: 20, Keep: 16, Priority: 100},
		{ID: ColStorage, Title: "STORAGE", Min: 7, Max: 8, Keep: 8, Priority: 82},
		{ID: ColUser, Title: "USER", Min: 16, Max: 40, Priority: 70},
		{ID: ColRole, Title: "ROLE", Min: 5, Max: 8, Keep: 8, Priority: 50},
		{ID: ColOrg, Title: "ORG", Min: 4, Max: 8, Priority: 40},
		{ID: ColAccess, Title: "ACCESS", Min: 8, Max: 8, Priority: 90, Right: true},
		{ID: ColBar, Title: "", Min: 10, Max: 10, Priority: 60},
		{ID: ColAccessExpires, Title: "ACCESS EXPIRES", Min: 20, Max: 20, Priority: 20},
		{ID: ColRefresh, Title: "REFRESH", Min: 8, Max: 8, Priority: 80, Right: true},
		{ID: ColRefreshExpires, Title: "REFRESH EXPIRES", Min: 20, Max: 20, Priority: 25},
		{ID: ColState, Title: "STATE", Min: 19, Max: 64, Keep: 16, Priority: 85, GrowsLast: true},
		{ID: ColLastRefresh, Title: "LAST REFRESH", Min: 12, Max: 12, Priority: 30, Right: true},
	}
}

// PickColumns is the session columns named by ids, in the table's order.
func PickColumns(ids ...ColumnID) []Column {
	want := map[ColumnID]bool{}
	for _, id := range ids {
		want[id] = true
	}
	var out []Column
	for _, c := range SessionColumns() {
		if want[c.ID] {
			out = append(out, c)
		}
	}
	return out
}

// Placed is a column that stays, with its width in cells.
type Placed struct {
	Column
	Width int
}

// TableWidth is the cells a row of cols takes after lead cells.
func TableWidth(cols []Placed, lead int) int {
	n := lead
	for i, c := range cols {
		if i > 0 {
			n += ColumnGap
		}
		n += c.Width
	}
	return n
}

// Layout chooses which of cols stay in width cells and how wide each is,
// never wrapping: it drops the lowest priority first while the columns'
// least widths (and lead cells before the first) do not fit, keeping at
// least one, then grows them in priority order up to their content's
// width, GrowsLast ones after the rest. natural[i] is the widest content
// of cols[i] (its title included where that matters); 0 means not
// measured: such a column grows to its Max, or with no Max takes whatever
// is left. Room no column needs is left empty: padding a row out to the
// edge of a wide terminal only puts its last column out of sight.
//
// width 0 (or less) is no limit, for output that is not a terminal:
// every column, each as wide as its content, so scripts can parse it.
func Layout(cols []Column, natural []int, width, lead int) []Placed {
	nat := func(i int) int {
		if i < len(natural) {
			return natural[i]
		}
		return 0
	}
	out := make([]Placed, len(cols))
	hi := make([]int, len(cols)) // -1: takes the rest
	for i, c := range cols {
		n := nat(i)
		lo := max(c.Min, min(n, c.Keep))
		switch {
		case width <= 0:
			lo = max(c.Min, n)
			hi[i] = lo
		case n > 0 && c.Max > 0:
			hi[i] = max(min(n, c.Max), lo)
		case n > 0:
			hi[i] = max(n, lo)
		case c.Max > 0:
			hi[i] = max(c.Max, lo)
		default:
			hi[i] = -1
		}
		out[i] = Placed{Column: c, Width: lo}
	}
	if width <= 0 {
		return out
	}
	for len(out) > 1 && TableWidth(out, lead) > width {
		low := 0
		for i, c := range out {
			if c.Priority < out[low].Priority {
				low = i
			}
		}
		out = append(out[:low:low], out[low+1:]...)
		hi = append(hi[:low:low], hi[low+1:]...)
	}
	spare := width - TableWidth(out, lead)
	order := make([]int, len(out))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		ca, cb := out[order[a]], out[order[b]]
		if ca.GrowsLast != cb.GrowsLast {
			return cb.GrowsLast
		}
		return ca.Priority > cb.Priority
	})
	for _, i := range order {
		if hi[i] < 0 {
			continue
		}
		g := min(max(spare, 0), max(hi[i]-out[i].Width, 0))
		out[i].Width += g
		spare -= g
	}
	for i := range out {
		if spare > 0 && hi[i] < 0 {
			out[i].Width += spare
			spare = 0
		}
	}
	return out
}
