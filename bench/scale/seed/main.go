// Command seed fills a config dir with N sessions through the storage
// package (file backend, or the keyring), each a pair issued by an
// in-process emulator with a 24-hour access token, for bench/scale/run.sh.
//
//	seed -dir DIR -n 10000 [-storage file|keyring] [-access 24h]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/tokentop/tokentop/auth"
	"github.com/tokentop/tokentop/auth/emulator"
	"github.com/tokentop/tokentop/storage"
)

func main() {
	dir := flag.String("dir", "", "config dir to fill")
	n := flag.Int("n", 1, "number of sessions")
	backend := flag.String("storage", storage.BackendFile, "secrets backend")
	access := flag.Duration("access", 24*time.Hour, "access-token lifetime")
	url := flag.String("url", "http://127.0.0.1:9", "OAuth URL recorded for every session (API: URL/v3)")
	prefix := flag.String("prefix", "s", "session name prefix")
	flag.Parse()
	if err := run(*dir, *n, *backend, *access, *url, *prefix); err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		os.Exit(1)
	}
}

func run(dir string, n int, backend string, access time.Duration, url, prefix string) error {
	st, err := storage.Open(storage.Options{ConfigDir: dir, Backend: backend})
	if err != nil {
		return err
	}
	em := emulator.New(emulator.Config{})
	k := auth.NewKeeper(auth.KeeperConfig{Store: st, Audit: st, EventBuffer: 1})
	ep := auth.Endpoints{OAuthURL: url, APIURL: url + "/v3"}
	ctx := context.Background()
	for i := range n {
		body, err := em.Issue(emulator.DefaultUser().Email, access, 30*24*time.Hour)
		if err != nil {
			return err
		}
		if _, err := k.Import(ctx, fmt.Sprintf("%s%05d", prefix, i), ep, body, auth.ImportOptions{KeepAlive: true}); err != nil {
			return err
		}
		for drained := false; !drained; {
			select {
			case <-k.Events():
			default:
				drained = true
			}
		}
	}
	return nil
}
