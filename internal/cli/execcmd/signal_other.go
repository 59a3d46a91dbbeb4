//go:build !unix

package execcmd

// terminalDeliveredInterrupt is false where process groups do not exist:
// every interrupt is forwarded.
func terminalDeliveredInterrupt() bool { return false }
