//go:build unix

package proxy

import "syscall"

// alive says whether an idle connection is still open: the server may
// have closed it meanwhile (its idle timeout, a restart), and a request
// written to it would be lost. http.Transport learns that from the
// goroutine it keeps reading every connection; here it is one peek at the
// socket, which does not block (Go's sockets are non-blocking): nothing to
// read means open; end of stream or an error means closed. Bytes waiting
// on a plain connection are an answer nobody asked for, so it is not
// reused either; on TLS they may be the server's session tickets.
func (c *upConn) alive() bool {
	if c.br.Buffered() > 0 {
		return false
	}
	if c.sys == nil {
		return true
	}
	if c.peekFn == nil {
		c.peekFn = c.peek // once per connection: a method value costs an allocation
	}
	c.open = false
	return c.sys.Read(c.peekFn) == nil && c.open
}

func (c *upConn) peek(fd uintptr) bool {
	n, _, err := syscall.Recvfrom(int(fd), c.peekBuf[:], syscall.MSG_PEEK)
	switch {
	case err == syscall.EAGAIN || err == syscall.EWOULDBLOCK:
		c.open = true
	case err == nil && n > 0:
		c.open = c.nc != c.raw // TLS
	}
	return true
}
