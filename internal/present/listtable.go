package present

import (
	"bufio"
	"bytes"
	"cmp"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tokentop/tokentop/auth"
)

// ListTable is `tokentop list`'s table. Sessions are added in any order,
// by several goroutines at once (each with its own Adder), and the table is
// written sorted by name: `list` turns each session into its row as the
// store reads it (storage.Store.Scan), so at 10,000 sessions it holds their
// cells, never the sessions themselves.
type ListTable struct {
	backend string
	now     time.Time
	cols    []Column // every column of list, STORAGE included
	storage int      // STORAGE's index in cols
	rows    rowSets
}

// rowSets are the rows of a list, a rowSet per Adder.
type rowSets struct {
	mu    sync.Mutex
	parts []*rowSet
}

// add is a new, empty rowSet of the list, of cells cells a row.
func (rss *rowSets) add(cells int) *rowSet {
	rs := &rowSet{wide: make([]int, cells)}
	rss.mu.Lock()
	rss.parts = append(rss.parts, rs)
	rss.mu.Unlock()
	return rs
}

// len is the number of rows added so far.
func (rss *rowSets) len() int {
	rss.mu.Lock()
	defer rss.mu.Unlock()
	n := 0
	for _, rs := range rss.parts {
		n += len(rs.names)
	}
	return n
}

// rowSet holds rows of cells: the rows one Adder added, or the titles.
// Their text is kept in blocks that are never moved, and a row is written
// straight into the free end of the current block: one growing buffer for
// 10,000 sessions' JSON was copied and left behind again and again (44 MB
// of memory for 7 MB of text, each new page a fault).
type rowSet struct {
	names []string // each row's session, for the order
	// blocks hold the rows' text; a row is in one block, from
	// rows[r].start, and each of its cells ends ends[r*n+c] bytes after
	// that (n cells a row), starting where the one before it ends.
	blocks [][]byte
	rows   []rowPos
	ends   []int32
	// row is the row being added, in the free end of the last block (of
	// room bytes), or wherever append moved it when it did not fit.
	row   []byte
	room  int
	wide  []int // each column's widest cell, in runes
	mixed bool  // some session keeps its secrets elsewhere than backend
}

// rowPos is where a row's text starts.
type rowPos struct{ block, start int32 }

const (
	// rowBlock is the size of a rowSet's blocks of text.
	rowBlock = 256 << 10
	// rowRoom is the free space a row starts in; a longer one (a session
	// with kilobytes of error text) is moved to a block of its own.
	rowRoom = 8 << 10
)

// beginRow starts a row.
func (rs *rowSet) beginRow() {
	last := len(rs.blocks) - 1
	if last < 0 || cap(rs.blocks[last])-len(rs.blocks[last]) < rowRoom {
		rs.blocks = append(rs.blocks, make([]byte, 0, rowBlock))
		last++
	}
	b := rs.blocks[last]
	rs.row, rs.room = b[len(b):], cap(b)-len(b)
}

// addCell adds v to the row being added and says how wide it is, in runes.
func (rs *rowSet) addCell(v string) int {
	start := len(rs.row)
	rs.row = append(rs.row, v...)
	return rs.endCell(start)
}

// endCell ends the cell that started at start in the row being added, and
// says how wide it is, in runes.
func (rs *rowSet) endCell(start int) int {
	rs.ends = append(doubled(rs.ends), int32(len(rs.row)))
	return cellWidth(rs.row[start:])
}

// cellWidth is how many runes v holds: its length when it is ASCII, as
// nearly every cell is (counted twice a cell, runes were a tenth of
// making the table).
func cellWidth(v []byte) int {
	for _, c := range v {
		if c >= utf8.RuneSelf {
			return utf8.RuneCount(v)
		}
	}
	return len(v)
}

// endRow adds the row being added, for the session name.
func (rs *rowSet) endRow(name string) {
	last := len(rs.blocks) - 1
	pos := rowPos{int32(last), int32(len(rs.blocks[last]))}
	if cap(rs.row) == rs.room {
		rs.blocks[last] = rs.blocks[last][:int(pos.start)+len(rs.row)]
	} else {
		// append outgrew the room and moved the row: it keeps that block.
		rs.blocks = append(rs.blocks, rs.row)
		pos = rowPos{int32(last + 1), 0}
	}
	rs.rows = append(doubled(rs.rows), pos)
	rs.names = append(doubled(rs.names), name)
	rs.row, rs.room = nil, 0
}

// doubled is s with room for one more, doubling when full: append grows
// a large slice by a quarter, so filling one left four times its size
// behind, all of it new memory while listing holds off the collector.
func doubled[T any](s []T) []T {
	if len(s) < cap(s) {
		return s
	}
	return slices.Grow(s, max(len(s), 256))
}

// cell is cell c of row r, of n cells a row.
func (rs *rowSet) cell(r, c, n int) []byte {
	pos := rs.rows[r]
	start := int32(0)
	if c > 0 {
		start = rs.ends[r*n+c-1]
	}
	return rs.blocks[pos.block][pos.start+start : pos.start+rs.ends[r*n+c]]
}

// NewListTable is an empty table of sessions at now, whose header names
// backend (where new sessions go).
func NewListTable(backend string, now time.Time) *ListTable {
	t := &ListTable{backend: backend, now: now, storage: -1}
	for _, c := range SessionColumns() {
		if isListColumn(c.ID) {
			if c.ID == ColStorage {
				t.storage = len(t.cols)
			}
			t.cols = append(t.cols, listColumn(c))
		}
	}
	return t
}

// Adder returns a function that adds a session's row (it keeps nothing of
// the session but its name and cells). One goroutine may use it at a time:
// each goroutine adding rows takes its own.
func (t *ListTable) Adder() func(*auth.Session) error {
	rs := t.rows.add(len(t.cols))
	return func(s *auth.Session) error {
		backend := secretsBackend(s, t.backend)
		rs.mixed = rs.mixed || backend != t.backend
		st := describe(s, t.now)
		rs.beginRow()
		for i, c := range t.cols {
			start := len(rs.row)
			rs.row = appendListCell(rs.row, c.ID, s, &st, backend)
			rs.wide[i] = max(rs.wide[i], rs.endCell(start))
		}
		rs.endRow(s.Name)
		return nil
	}
}

// Len is the number of rows added so far.
func (t *ListTable) Len() int { return t.rows.len() }

// WriteListTable writes sessions as a ListTable.
func WriteListTable(w io.Writer, backend string, sessions []auth.Session, now time.Time, width int) {
	t := NewListTable(backend, now)
	add := t.Adder()
	for i := range sessions {
		_ = add(&sessions[i])
	}
	t.Write(w, width)
}

// Write writes the table sorted by name, dropping the least useful columns
// (and cutting the state, then names and users, with "…") until it fits
// width rather than wrapping lines; width 0 is no limit: every column,
// whole. The STORAGE column is there only when some session keeps its
// secrets elsewhere than the header's backend. Call it once every Adder is
// done. It writes through a buffer: a line per write made 10,000 system
// calls.
func (t *ListTable) Write(w io.Writer, width int) {
	t.rows.mu.Lock()
	defer t.rows.mu.Unlock()
	mixed := false
	for _, rs := range t.rows.parts {
		mixed = mixed || rs.mixed
	}
	titles := &rowSet{}
	titles.beginRow()
	var cols []Column
	var natural []int
	var keep []int // the index in t.cols of each of cols
	for i, c := range t.cols {
		n := titles.addCell(c.Title)
		if i == t.storage && !mixed {
			continue
		}
		for _, rs := range t.rows.parts {
			n = max(n, rs.wide[i])
		}
		cols, natural, keep = append(cols, c), append(natural, n), append(keep, i)
	}
	titles.endRow("")
	placed := Layout(cols, natural, width, 0)
	// at maps the placed columns back to the cells.
	at := make([]int, len(placed))
	for p, pc := range placed {
		for i, c := range cols {
			if c.ID == pc.ID {
				at[p] = keep[i]
			}
		}
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	defer bw.Flush()
	if mixed {
		fmt.Fprintf(bw, "Storage: %s for new sessions; each session's tokens stay where they were saved (STORAGE)\n", t.backend)
	} else {
		fmt.Fprintf(bw, "Storage: %s\n", t.backend)
	}
	n := len(t.cols)
	_, _ = bw.Write(appendRow(nil, titles, 0, n, placed, at))
	// The lines are made on every CPU, each worker a contiguous run of
	// rows, and written in order.
	rows := t.rows.parts
	writeInOrder(bw, t.rows.sorted(), 512, func(b []byte, r rowRef) []byte {
		return appendRow(b, rows[r.part], int(r.row), n, placed, at)
	})
}

// writeInOrder writes what line appends for each row of order, in order.
// The lines are made on every CPU, a run of per rows each, into buffers
// used again round after round: a buffer per CPU for the whole output
// would be new memory, a page fault every 4 KiB.
func writeInOrder(w io.Writer, order []rowRef, per int, line func([]byte, rowRef) []byte) {
	workers := min(runtime.GOMAXPROCS(0), max(1, len(order)/per))
	bufs := make([][]byte, workers)
	for len(order) > 0 {
		var wg sync.WaitGroup
		for k := range workers {
			run := order[min(k*per, len(order)):min((k+1)*per, len(order))]
			wg.Add(1)
			go func() {
				defer wg.Done()
				b := bufs[k][:0]
				for _, r := range run {
					b = line(b, r)
				}
				bufs[k] = b
			}()
		}
		wg.Wait()
		for _, b := range bufs {
			_, _ = w.Write(b)
		}
		order = order[min(workers*per, len(order)):]
	}
}

// rowRef is row row of parts[part].
type rowRef struct{ part, row int32 }

// sorted is every row, by name: each part sorted on its own CPU, then
// merged. The caller holds mu.
func (rss *rowSets) sorted() []rowRef {
	runs := make([][]sortKey, len(rss.parts))
	var wg sync.WaitGroup
	for p, rs := range rss.parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run := make([]sortKey, len(rs.names))
			for i, name := range rs.names {
				run[i] = sortKey{prefixKey(name), name, rowRef{int32(p), int32(i)}}
			}
			slices.SortFunc(run, compareKeys)
			runs[p] = run
		}()
	}
	wg.Wait()
	// Merge the runs two by two, until one is left.
	for len(runs) > 1 {
		next := runs[:0:0]
		for i := 0; i < len(runs); i += 2 {
			if i+1 == len(runs) {
				next = append(next, runs[i])
				continue
			}
			a, b := runs[i], runs[i+1]
			out := make([]sortKey, 0, len(a)+len(b))
			for len(a) > 0 && len(b) > 0 {
				if compareKeys(b[0], a[0]) < 0 {
					out, b = append(out, b[0]), b[1:]
				} else {
					out, a = append(out, a[0]), a[1:]
				}
			}
			next = append(next, append(append(out, a...), b...))
		}
		runs = next
	}
	if len(runs) == 0 {
		return nil
	}
	order := make([]rowRef, len(runs[0]))
	for i, k := range runs[0] {
		order[i] = k.ref
	}
	return order
}

// sortKey orders a row by its name: first by the name's first 8 bytes as
// one number (most names differ there, and two numbers compare in a
// fraction of the time two strings do), then by the whole name.
type sortKey struct {
	prefix uint64
	name   string
	ref    rowRef
}

// prefixKey is name's first 8 bytes, big-endian, zero-padded: where two
// names' keys differ, they order the names as strings.Compare does.
func prefixKey(name string) uint64 {
	var k uint64
	for i := range 8 {
		k <<= 8
		if i < len(name) {
			k |= uint64(name[i])
		}
	}
	return k
}

func compareKeys(a, b sortKey) int {
	if a.prefix != b.prefix {
		return cmp.Compare(a.prefix, b.prefix)
	}
	return strings.Compare(a.name, b.name)
}

// blanks pad cells to their column's width.
const blanks = "                                "

// appendRow appends one line of the table: row r of rs (n cells a row) in
// the placed columns (at: the cell of each), cut with "…" to their widths,
// without trailing spaces.
func appendRow(b []byte, rs *rowSet, r, n int, placed []Placed, at []int) []byte {
	start := len(b)
	for p, pc := range placed {
		v := rs.cell(r, at[p], n)
		w := cellWidth(v)
		if w > pc.Width {
			v = append([]byte(string([]rune(string(v))[:max(pc.Width-1, 0)])), "…"...)
			w = pc.Width
		}
		b = append(b, v...)
		if p != len(placed)-1 {
			for pad := max(pc.Width-w, 0) + ColumnGap; pad > 0; pad -= len(blanks) {
				b = append(b, blanks[:min(pad, len(blanks))]...)
			}
		}
	}
	b = b[:start+len(bytes.TrimRight(b[start:], " "))]
	return append(b, '\n')
}
