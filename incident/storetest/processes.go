package storetest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/sitrep-dev/sitrep/incident"
)

// Declares from several operating-system processes at once: what two
// replicas, or a replica and `sitrep` run by hand, do to one database. A
// store's tests use it in two halves, both in the same test binary:
//
//	func TestNumbersAcrossProcesses(t *testing.T) {
//		where := newDatabase(t)
//		storetest.DeclareInProcesses(t, "TestDeclareChild", []string{"MYSTORE_WHERE=" + where},
//			func(t *testing.T) incident.Store { return open(t, where) })
//	}
//
//	func TestDeclareChild(t *testing.T) {
//		storetest.DeclareChild(t, func() incident.Store { return open(os.Getenv("MYSTORE_WHERE")) })
//	}
//
// DeclareChild does nothing unless DeclareInProcesses started it.

const (
	childEnv   = "STORETEST_DECLARE_CHILD"
	processes  = 3
	perProcess = 30
)

// DeclareInProcesses runs the test named child in three processes at once
// (the current test binary again, with env added to their environment).
// Each opens the store itself, as a replica starting does, and declares
// thirty incidents from several goroutines. Then the store open returns,
// on the same database, must hold incidents numbered 1..90 without gaps or duplicates,
// each with its own events, and Changes must report each once.
func DeclareInProcesses(t *testing.T, child string, env []string, open func(t *testing.T) incident.Store) {
	t.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	outs := make([][]byte, processes)
	errs := make([]error, processes)
	for p := range processes {
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+child+"$", "-test.count=1", "-test.v")
		cmd.Env = append(append(os.Environ(), env...), fmt.Sprintf("%s=%d", childEnv, p+1))
		wg.Go(func() { outs[p], errs[p] = cmd.CombinedOutput() })
	}
	wg.Wait()
	for p, err := range errs {
		if err != nil {
			t.Fatalf("declaring process %d failed: %v\n%s", p+1, err, outs[p])
		}
		// A child that skipped (it was not told it is one) declared nothing.
		if !bytes.Contains(outs[p], []byte("--- PASS: "+child+" ")) {
			t.Fatalf("declaring process %d did not run %s:\n%s", p+1, child, outs[p])
		}
	}

	st := open(t)
	const n = processes * perProcess
	all, err := st.List(ctx, incident.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var nums []int64
	for _, inc := range all {
		nums = append(nums, inc.Number)
	}
	slices.Sort(nums)
	if len(nums) != n {
		t.Fatalf("%d incidents after %d processes declared %d each, want %d", len(nums), processes, perProcess, n)
	}
	for i, got := range nums {
		if got != int64(i+1) {
			t.Fatalf("numbers are not 1..%d: position %d holds %d (sorted: %v)", n, i, got, nums)
		}
	}
	seen := map[int64]bool{}
	for _, inc := range all {
		evs := events(t, st, inc.ID)
		if len(evs) != 1 || evs[0].Kind != incident.KindDeclared {
			t.Errorf("#%d has events %+v, want its declared event only", inc.Number, evs)
		}
		for _, e := range evs {
			if seen[e.Seq] {
				t.Errorf("event seq %d is used twice", e.Seq)
			}
			seen[e.Seq] = true
		}
	}
	changes, _, err := st.Changes(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	reported := map[int64]int{}
	for _, c := range changes {
		reported[c.Number]++
	}
	for number := int64(1); number <= n; number++ {
		if reported[number] != 1 {
			t.Errorf("Changes reported #%d %d times, want once", number, reported[number])
		}
	}
}

// DeclareChild is the child half of DeclareInProcesses: started by it, it
// opens the store with open and declares its share of incidents; otherwise
// it does nothing.
func DeclareChild(t *testing.T, open func(t *testing.T) incident.Store) {
	id, err := strconv.Atoi(os.Getenv(childEnv))
	if err != nil {
		t.Skip("runs only as a process started by DeclareInProcesses")
	}
	st := open(t)
	ctx := context.Background()
	const goroutines = 3
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := g; i < perProcess; i += goroutines {
				inc := NewIncident(fmt.Sprintf("process %d, incident %d", id, i))
				if err := st.Create(ctx, inc, Declared(inc)); err != nil {
					t.Errorf("Create: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
}
