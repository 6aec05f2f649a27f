package postgres

import (
	"bufio"
	"context"
	"net"
	"net/url"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The lease race. A claim is a session advisory lock, so an "expired
// lease" is the lock of a holder whose session the database has ended: it
// died, or was cut off. These tests end a holder in each way while other
// processes race for its key, and check that exactly one of them takes it
// over and does the work, and that a holder cut off while working is told
// to stop.

// race has handles try to claim key in a tight loop, one goroutine each,
// from before kill ends the holder until well after one of them has won.
// Each handle's first try, before kill, must fail when held says the key
// is held then. It returns how many claims succeeded, how many times the
// work guarded by the claim ran (both must be one), and when the first
// claim succeeded.
func race(t *testing.T, handles []*DB, key string, held bool, kill func()) (wins, work int32, at time.Time) {
	t.Helper()
	ctx := context.Background()
	var (
		won, worked atomic.Int32
		stop        atomic.Bool
		tried       sync.WaitGroup // each handle has lost at least once
		wg          sync.WaitGroup
		mu          sync.Mutex
		releases    []func()
		first       time.Time
	)
	tried.Add(len(handles))
	for _, db := range handles {
		wg.Go(func() {
			try1 := true
			for !stop.Load() {
				release, _, ok, err := db.TryExclusive(ctx, key)
				if err != nil {
					t.Errorf("TryExclusive: %v", err)
					break
				}
				if ok {
					won.Add(1)
					worked.Add(1) // the work the claim guards
					mu.Lock()
					if first.IsZero() {
						first = time.Now()
					}
					releases = append(releases, release) // held to the end
					mu.Unlock()
				}
				if try1 {
					try1 = false
					if ok && held {
						t.Error("a racer claimed the key while its holder lived")
					}
					tried.Done()
				}
			}
			if try1 {
				tried.Done()
			}
		})
	}
	tried.Wait()
	kill()
	deadline := time.Now().Add(60 * time.Second)
	for won.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	// The losers keep trying for a while beside the winner.
	time.Sleep(2 * lockPing)
	stop.Store(true)
	wg.Wait()
	for _, r := range releases {
		r()
	}
	return won.Load(), worked.Load(), first
}

func openHandles(t *testing.T, u string, n int) []*DB {
	var dbs []*DB
	for range n {
		dbs = append(dbs, openURL(t, u))
	}
	return dbs
}

// Five processes race in a tight loop for the key of a holder whose
// session the database ends (pg_terminate_backend, as for a holder the
// database gave up on): exactly one takes it over, once, and the holder is
// told its claim is lost.
func TestExclusiveRaceWhenHolderTerminated(t *testing.T) {
	ctx := context.Background()
	holder, u := openTest(t)
	_, lost, ok := tryExclusive(t, holder, "triage")
	if !ok {
		t.Fatal("the holder's claim failed")
	}
	holder.locks.mu.Lock()
	pid := holder.locks.conn.PgConn().PID()
	holder.locks.mu.Unlock()
	admin, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)

	wins, work, _ := race(t, openHandles(t, u, 5), "triage", true, func() {
		if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend($1)`, pid); err != nil {
			t.Fatal(err)
		}
	})
	if wins != 1 || work != 1 {
		t.Errorf("%d racers took over the key and the work ran %d times, want once each", wins, work)
	}
	select {
	case <-lost:
	case <-time.After(30 * time.Second):
		t.Error("the holder was not told its claim was lost")
	}
}

const holderURLEnv = "SITREP_TEST_EXCLUSIVE_HOLDER"

// TestExclusiveHolderChild is the holder TestExclusiveRaceWhenHolderKilled
// kills: it claims the key, says so, and waits to be killed.
func TestExclusiveHolderChild(t *testing.T) {
	u := os.Getenv(holderURLEnv)
	if u == "" {
		t.Skip("runs only as the process TestExclusiveRaceWhenHolderKilled kills")
	}
	db := openURL(t, u)
	if _, _, ok := tryExclusive(t, db, "triage"); !ok {
		t.Fatal("the holder's claim failed")
	}
	os.Stdout.WriteString("holding\n")
	time.Sleep(time.Minute)
	t.Fatal("not killed within a minute")
}

// Five processes race for the key of a holder process that is killed
// (SIGKILL: it releases nothing itself): the database ends its session
// when the kernel closes its socket, and exactly one racer takes the key
// over, once.
func TestExclusiveRaceWhenHolderKilled(t *testing.T) {
	_, u := openTest(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestExclusiveHolderChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), holderURLEnv+"="+u)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(out)
	for sc.Scan() && sc.Text() != "holding" {
	}
	if sc.Err() != nil || sc.Text() != "holding" {
		cmd.Wait()
		t.Fatalf("the holder process did not claim the key (%v)", sc.Err())
	}
	wins, work, _ := race(t, openHandles(t, u, 5), "triage", true, func() {
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
	})
	if wins != 1 || work != 1 {
		t.Errorf("%d racers took over the key and the work ran %d times, want once each", wins, work)
	}
}

// pgProxy stands between a process and the database, and can cut the
// network (both sides see their connection end) or make it a black hole
// (nothing passes and nothing ends: the database's side looks alive).
type pgProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	conns []net.Conn
	hung  bool
}

func newPGProxy(t *testing.T, u string) (*pgProxy, string) {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pgProxy{ln: ln, target: pu.Host}
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		p.hung = false
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
	})
	go p.serve()
	pu.Host = ln.Addr().String()
	return p, pu.String()
}

func (p *pgProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		go p.pipe(c, s)
		go p.pipe(s, c)
	}
}

func (p *pgProxy) isHung() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hung
}

func (p *pgProxy) pipe(from, to net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		if n > 0 && !p.isHung() {
			if _, err := to.Write(buf[:n]); err != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	if !p.isHung() {
		to.Close()
		from.Close()
	}
}

// cut ends every connection through the proxy.
func (p *pgProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// hang stops everything passing, and ends nothing.
func (p *pgProxy) hang() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hung = true
}

// A holder whose connection is cut while it works is told its claim is
// lost (its next ping fails, within lockPing), stops, and another process
// takes the key over.
func TestExclusiveLostWhenConnectionCut(t *testing.T) {
	_, u := openTest(t)
	proxy, through := newPGProxy(t, u)
	holder := openURL(t, through)
	others := openHandles(t, u, 2)
	lost, stopped := holdAndWork(t, holder, "triage")
	start := time.Now()
	proxy.cut()
	select {
	case <-lost:
		t.Logf("the holder learnt of the cut after %v (lockPing %v)", time.Since(start).Round(time.Millisecond), lockPing)
	case <-time.After(30 * time.Second):
		t.Fatal("the holder was not told its claim was lost")
	}
	<-stopped
	// The database saw the connection end too, and released the key.
	wins, work, _ := race(t, others, "triage", false, func() {})
	if wins != 1 || work != 1 {
		t.Errorf("%d processes took over the key and the work ran %d times, want once each", wins, work)
	}
}

// A holder cut off by a network that swallows everything and ends nothing
// is told its claim is lost (its ping gets no answer within lockPing) and
// stops; the database, whose side of the connection looks alive, ends the
// session once it has heard nothing for its idle limit, and then another
// process takes the key over. Until then nobody can: a holder merely slow
// must not lose its claim while still working.
func TestExclusiveLostWhenNetworkHangs(t *testing.T) {
	_, u := openTest(t)
	proxy, through := newPGProxy(t, u)
	holder := openURL(t, through)
	holder.locks.idle = 5 * lockPing
	others := openHandles(t, u, 3)
	lost, stopped := holdAndWork(t, holder, "triage")
	start := time.Now()
	proxy.hang()
	select {
	case <-lost:
		t.Logf("the holder gave up its claim %v after the network hung (lockPing %v)", time.Since(start).Round(time.Millisecond), lockPing)
	case <-time.After(30 * time.Second):
		t.Fatal("the holder was not told its claim was lost")
	}
	<-stopped
	// The database still holds the session, and the key for it.
	wins, work, at := race(t, others, "triage", true, func() {})
	if wins != 1 || work != 1 {
		t.Errorf("%d processes took over the key and the work ran %d times, want once each", wins, work)
	}
	if wins > 0 {
		t.Logf("another process held the key within %v of the hang (idle limit %v)", at.Sub(start).Round(time.Millisecond), holder.locks.idle)
	}
}

// holdAndWork claims key on db and works under the claim until the claim
// is lost; stopped is closed once the work has stopped.
func holdAndWork(t *testing.T, db *DB, key string) (lost <-chan struct{}, stopped <-chan struct{}) {
	t.Helper()
	release, lost, ok := tryExclusive(t, db, key)
	if !ok {
		t.Fatal("the holder's claim failed")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer release()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-lost:
				return
			case <-tick.C: // a step of work
			}
		}
	}()
	return lost, done
}
