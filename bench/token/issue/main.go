// Command issue prints a token response from an in-process emulator, with a
// 24-hour access token, for bench/token/run.sh to import: `tokentop token`
// on a fresh session needs no network, so no server has to keep running.
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/tokentop/tokentop/auth/emulator"
)

func main() {
	em := emulator.New(emulator.Config{})
	body, err := em.Issue(emulator.DefaultUser().Email, 24*time.Hour, 48*time.Hour)
	if err != nil {
		fmt.Fprintln(os.Stderr, "issue:", err)
		os.Exit(1)
	}
	os.Stdout.Write(body)
}
