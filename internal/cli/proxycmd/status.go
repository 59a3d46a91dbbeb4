package proxycmd

import (
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/tokentop/tokentop/internal/cli/cmdutil"
	"github.com/tokentop/tokentop/internal/proxy"
)

// statusWriter keeps this proxy's status file fresh until stopped.
type statusWriter struct {
	stopOnce sync.Once
	quit     chan struct{}
	done     chan struct{}
}

// startStatus publishes the proxy's status in the config dir every few
// seconds (nothing with --storage memory, which keeps nothing on disk).
// A failure to write is told once; the proxy goes on without it.
func startStatus(f *cmdutil.Factory, name, addr string, h *proxy.Handler) *statusWriter {
	sw := &statusWriter{quit: make(chan struct{}), done: make(chan struct{})}
	st, err := f.Store()
	dir := ""
	if err == nil {
		dir = st.ConfigDir()
	}
	if dir == "" {
		close(sw.done)
		return sw
	}
	s := proxy.Status{PID: os.Getpid(), Session: name, Listen: addr, Started: f.Now()}
	go func() {
		defer close(sw.done)
		told := false
		t := time.NewTicker(proxy.StatusEvery)
		defer t.Stop()
		for {
			s.Served, s.Updated = h.Served(), f.Now()
			if err := proxy.WriteStatus(dir, s); err != nil && !told {
				told = true
				fmt.Fprintf(f.IOStreams.ErrOut, "tokentop: warning: the TUI will not show this proxy: %v\n", err)
			}
			select {
			case <-t.C:
			case <-sw.quit:
				_ = proxy.RemoveStatus(dir, s.PID)
				return
			}
		}
	}()
	return sw
}

func (sw *statusWriter) stop() {
	sw.stopOnce.Do(func() { close(sw.quit) })
	<-sw.done
}
