//go:build etcd

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// etcdBuild: these tests run with the build tag etcd, and so must the
// binary they start.
const etcdBuild = true

// etcdTestTeam is a team on the test cluster under a prefix of its own, and
// its "machines": separate config dirs, homes and identity files.
type etcdTestTeam struct {
	eps    string
	prefix string
}

// newEtcdTestTeam skips without a cluster (CI runs these inside
// .ci/with-etcd), and creates a team with machine 0.
func newEtcdTestTeam(t *testing.T) (*etcdTestTeam, *cli) {
	t.Helper()
	eps := os.Getenv("TOKENTOP_TEST_ETCD_ENDPOINTS")
	if eps == "" {
		t.Skip("no etcd cluster: run inside .ci/with-etcd (it sets TOKENTOP_TEST_ETCD_ENDPOINTS)")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	tm := &etcdTestTeam{eps: eps, prefix: "/tokentop-cli-" + hex.EncodeToString(b[:])}
	t.Cleanup(func() {
		_ = exec.Command("etcdctl", "--endpoints", eps, "del", "--prefix", tm.prefix+"/").Run()
	})
	first := tm.machine(t)
	if r := first.run("", "team", "init"); r.code != 0 {
		t.Fatalf("team init: exit %d\n%s", r.code, r.stderr)
	}
	return tm, first
}

// machine is another member: its own config dir, home and identity file
// (joined from machine 0's when there is one), running the binary.
func (tm *etcdTestTeam) machine(t *testing.T) *cli {
	t.Helper()
	home := privateDir(t)
	c := &cli{t: t, configDir: privateDir(t), storage: "etcd", process: true, env: []string{
		"HOME=" + home,
		"TOKENTOP_ETCD_ENDPOINTS=" + tm.eps,
		"TOKENTOP_ETCD_PREFIX=" + tm.prefix,
		"TOKENTOP_TEAM_IDENTITY=" + filepath.Join(home, "team.key"),
	}}
	return c
}

// join makes c a member with the identity of first.
func join(t *testing.T, first, c *cli) {
	t.Helper()
	key, err := os.ReadFile(getenv(first.env, "TOKENTOP_TEAM_IDENTITY"))
	if err != nil {
		t.Fatal(err)
	}
	if r := c.run(string(key), "team", "join"); r.code != 0 {
		t.Fatalf("team join: exit %d\n%s", r.code, r.stderr)
	}
}

// TestEtcdThreeMachinesOneRefresh: 3 machines × 8 concurrent `token` on a
// session due for refresh: exactly one refresh, no refresh token presented
// twice, one token printed by all 24.
func TestEtcdThreeMachinesOneRefresh(t *testing.T) {
	t.Parallel()
	tm, m0 := newEtcdTestTeam(t)
	machines := []*cli{m0, tm.machine(t), tm.machine(t)}
	for _, m := range machines[1:] {
		join(t, m0, m)
	}
	em, url := startEmulator(t, shortConfig())
	name := "shared"
	old := importDue(t, m0, em, url, name, time.Second, 10*time.Minute, time.Hour)
	time.Sleep(600 * time.Millisecond)

	const per = 8
	results := make([]result, len(machines)*per)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = machines[i/per].run("", "token", name)
		}()
	}
	close(start)
	wg.Wait()
	first := results[0].stdout
	for i, r := range results {
		if r.code != 0 {
			t.Fatalf("machine %d process %d: exit %d\n%s", i/per, i%per, r.code, r.stderr)
		}
		if r.stdout != first {
			t.Errorf("machine %d process %d printed a different token", i/per, i%per)
		}
	}
	if strings.TrimSpace(first) == old.access {
		t.Error("the processes printed the old token, not a refreshed one")
	}
	if st := em.Stats(); st.Refreshes != 1 || st.ReuseDetected != 0 || st.RefreshRejections != 0 {
		t.Errorf("emulator stats %+v: want exactly 1 refresh, no reuse, no rejection", st)
	}

	// What etcd holds, as its operator sees it, has no token and no identity.
	out, err := exec.Command("etcdctl", "--endpoints", tm.eps, "get", "--prefix", tm.prefix).CombinedOutput()
	if err != nil {
		t.Fatalf("etcdctl: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), tm.prefix+"/secrets/"+name) {
		t.Fatalf("etcdctl shows no secrets key:\n%s", out)
	}
	for _, secret := range []string{old.access, old.refresh, strings.TrimSpace(first), "AGE-SECRET-KEY", "password"} {
		if strings.Contains(string(out), secret) {
			t.Errorf("etcdctl get --prefix %s shows a secret (%.12s...)", tm.prefix, secret)
		}
	}
}

// TestEtcdHolderKilled: a process SIGKILLed while it holds the session's
// lock (its refresh waiting at the server, not yet handled) frees the lock
// within the lease TTL; another machine then refreshes, and the session
// survives with no refresh token presented twice.
func TestEtcdHolderKilled(t *testing.T) {
	t.Parallel()
	tm, m0 := newEtcdTestTeam(t)
	m1 := tm.machine(t)
	join(t, m0, m1)
	s := startServer(t, shortConfig())
	name := "held"
	importExpired(t, m0, s.em, s.url, name, 10*time.Minute, time.Hour)

	s.em.SetLatency(time.Minute)
	cmd, _, _ := startProcess(t, m0, "token", name)
	waitArrived(t, s)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	killed := time.Now()
	s.em.SetLatency(0)

	r := m1.run("", "refresh", name)
	waited := time.Since(killed)
	t.Logf("next run after %s:\n%s%s", waited, r.stdout, r.stderr)
	if r.code != 0 {
		t.Fatalf("after the kill: exit %d, want 0\n%s", r.code, r.stderr)
	}
	if waited > 20*time.Second {
		t.Errorf("the lock freed after %s; want within the 15s lease", waited)
	}
	if st := s.em.Stats(); st.Refreshes != 1 || st.ReuseDetected != 0 {
		t.Errorf("emulator stats %+v: want exactly 1 refresh and no reuse", st)
	}
	if got := listedSession(t, m0, name); got.State != "ok" {
		t.Errorf("list says %s (%s), want ok", got.State, got.Reason)
	}

	// Forgetting a shared session forgets it for every member, and says so.
	if r := m1.run("", "forget", name); r.code != 0 || !strings.Contains(r.stderr, "for every member") {
		t.Errorf("forget: exit %d, want it to say the team loses the session:\n%s", r.code, r.stderr)
	}
	if r := m0.run("", "list"); !strings.Contains(r.stdout+r.stderr, "No saved sessions") {
		t.Errorf("the other member still lists it:\n%s%s", r.stdout, r.stderr)
	}
}

// TestEtcdLeaderKilled: the three-machine run while the etcd leader is
// killed: no reuse, the session survives. It kills a member of the test
// cluster, so it runs only when asked (TOKENTOP_TEST_ETCD_KILL=1) and
// needs TOKENTOP_TEST_ETCD_PIDS from .ci/with-etcd.
func TestEtcdLeaderKilled(t *testing.T) {
	if os.Getenv("TOKENTOP_TEST_ETCD_KILL") != "1" {
		t.Skip("kills a member of the test cluster: run alone with TOKENTOP_TEST_ETCD_KILL=1 inside .ci/with-etcd")
	}
	tm, m0 := newEtcdTestTeam(t)
	machines := []*cli{m0, tm.machine(t), tm.machine(t)}
	for _, m := range machines[1:] {
		join(t, m0, m)
	}
	leader := etcdLeaderPID(t, tm.eps)
	em, url := startEmulator(t, shortConfig())
	em.SetLatency(300 * time.Millisecond)
	name := "leaderless"
	old := importDue(t, m0, em, url, name, time.Second, 10*time.Minute, time.Hour)
	time.Sleep(600 * time.Millisecond)

	const per = 8
	results := make([]result, len(machines)*per)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = machines[i/per].run("", "token", name)
		}()
	}
	close(start)
	time.Sleep(150 * time.Millisecond) // the first holder is at the server
	if err := syscall.Kill(leader, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i, r := range results {
		if r.code != 0 {
			t.Errorf("machine %d process %d: exit %d\n%s", i/per, i%per, r.code, r.stderr)
		}
	}
	st := em.Stats()
	if st.ReuseDetected != 0 || st.RefreshRejections != 0 || st.Refreshes < 1 {
		t.Errorf("emulator stats %+v: want no reuse, no rejection", st)
	}
	r := m0.run("", "token", name)
	if r.code != 0 || strings.TrimSpace(r.stdout) == old.access {
		t.Errorf("the session did not survive: exit %d\n%s", r.code, r.stderr)
	}
}

// etcdLeaderPID is the pid of the cluster's leader, from .ci/with-etcd's
// TOKENTOP_TEST_ETCD_PIDS (in the order of the endpoints).
func etcdLeaderPID(t *testing.T, eps string) int {
	t.Helper()
	pids := strings.Split(os.Getenv("TOKENTOP_TEST_ETCD_PIDS"), ",")
	out, err := exec.CommandContext(context.Background(), "etcdctl", "--endpoints", eps, "endpoint", "status", "-w", "json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var st []struct {
		Endpoint string `json:"Endpoint"`
		Status   struct {
			Header struct {
				MemberID uint64 `json:"member_id"`
			} `json:"header"`
			Leader uint64 `json:"leader"`
		} `json:"Status"`
	}
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatal(err)
	}
	for i, s := range st {
		if s.Status.Header.MemberID == s.Status.Leader && i < len(pids) {
			pid, err := strconv.Atoi(pids[i])
			if err != nil {
				t.Fatal(err)
			}
			return pid
		}
	}
	t.Fatalf("no leader in %s", out)
	return 0
}
