//go:build !unix

package proxy

// alive cannot peek at the socket here; a closed connection is found when
// a request is written to it (and then sent again as the Transport would).
func (c *upConn) alive() bool { return c.br.Buffered() == 0 }
