// Command floor is the speed floor for `tokentop token`: the least a Go
// program must do to print a stored access token, namely read one keyring
// item (service "tokentop", account ACCOUNT, which tokentop makes of the
// config dir's store-id, "/" and the session name) and print its access
// token.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/zalando/go-keyring"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: floor ACCOUNT   (STORE-ID/NAME)")
		os.Exit(2)
	}
	v, err := keyring.Get("tokentop", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(4)
	}
	var sec struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(v), &sec); err != nil {
		fmt.Fprintln(os.Stderr, "floor: the keyring item is not the JSON tokentop stores:", err)
		os.Exit(1)
	}
	os.Stdout.WriteString(sec.AccessToken + "\n")
}
