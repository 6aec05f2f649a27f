package statuspage

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/storage/sqlite"
)

// TestStatusPageUnderLoad measures the page as customers hit it during an
// outage: 50 readers in a closed loop on /api/v2/summary.json and on /,
// while an incident is published to every 250 ms through the real service
// and store; and, in the same run, the same readers on a static file of
// the same size served by net/http's FileServer, as the floor. It prints
// the table BENCHMARKS.md keeps, and fails if the page was rendered more
// than once per change (plus once a minute). The latencies are reported,
// not judged: the machine is shared.
//
//	SITREP_STATUS_LOAD=full go test -run TestStatusPageUnderLoad -v ./statuspage
//
// Without SITREP_STATUS_LOAD=full it sends few requests, to check that it
// works and that renders stay one per change.
func TestStatusPageUnderLoad(t *testing.T) {
	const readers = 50
	perReader := 20
	if os.Getenv("SITREP_STATUS_LOAD") == "full" {
		perReader = 200
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sitrep.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg := incident.DefaultConfig()
	cfg.Public.Components = components
	svc := incident.NewService(db, cfg, time.Now)
	inc, err := svc.Declare(ctx, incident.Declaration{Title: "Checkout failing", Actor: "U1"})
	if err != nil {
		t.Fatal(err)
	}
	page, err := New(svc, Config{Name: "Acme", Components: components}, time.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var changes atomic.Int64
	svc.Subscribe(func(int64) { changes.Add(1); page.Changed() })
	publish := func(i int) {
		if _, err := svc.Publish(ctx, inc.Number, "U1", incident.Publication{Title: "Checkout errors", Status: incident.PublicIdentified,
			Components: []incident.ComponentImpact{{Name: "API", Status: incident.PartialOutage}}, Message: fmt.Sprintf("Update %d: we are rolling back.", i)}); err != nil {
			t.Error(err)
		}
	}
	publish(0)
	sp := httptest.NewServer(page.Handler())
	defer sp.Close()

	// The floor: a static file the size of each response, from disk.
	dir := t.TempDir()
	for _, name := range []string{"summary.json", "index.html"} {
		path := "/api/v2/summary.json"
		if name == "index.html" {
			path = "/"
		}
		_, body := get(t, sp.URL+path)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	static := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer static.Close()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: readers}}
	run := func(url string) (perSec float64, p50, p99 time.Duration) {
		var mu sync.Mutex
		var lat []time.Duration
		var wg sync.WaitGroup
		start := time.Now()
		for range readers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				mine := make([]time.Duration, 0, perReader)
				for range perReader {
					t0 := time.Now()
					resp, err := client.Get(url)
					if err != nil {
						t.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						t.Errorf("GET %s = %d", url, resp.StatusCode)
						return
					}
					mine = append(mine, time.Since(t0))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		took := time.Since(start)
		slices.Sort(lat)
		if len(lat) == 0 {
			return 0, 0, 0
		}
		return float64(len(lat)) / took.Seconds(), lat[len(lat)/2], lat[len(lat)*99/100]
	}

	// An incident being updated all along.
	stop := make(chan struct{})
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(250 * time.Millisecond):
				publish(i)
			}
		}
	}()
	buildsBefore, changesBefore := page.Builds(), changes.Load()
	start := time.Now()
	type row struct {
		what               string
		perSec             float64
		p50, p99, floorP99 time.Duration
	}
	var rows []row
	for _, c := range []struct{ what, path, floor string }{
		{"/api/v2/summary.json", "/api/v2/summary.json", "/summary.json"},
		{"/ (HTML)", "/", "/index.html"},
	} {
		// ABBA, so that noise on the machine hits both.
		_, _, f1 := run(static.URL + c.floor)
		r1, m1, p1 := run(sp.URL + c.path)
		r2, m2, p2 := run(sp.URL + c.path)
		_, _, f2 := run(static.URL + c.floor)
		rows = append(rows, row{c.what, (r1 + r2) / 2, (m1 + m2) / 2, max(p1, p2), max(f1, f2)})
	}
	close(stop)
	<-writerDone
	elapsed := time.Since(start)
	builds, changed := page.Builds()-buildsBefore, changes.Load()-changesBefore

	fmt.Printf("\n| response | requests/s | p50 | p99 | static-file p99 (floor) | p99 / floor |\n|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Printf("| %s | %.0f | %s | %s | %s | %.2f× |\n", r.what, r.perSec, r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond),
			r.floorP99.Round(time.Microsecond), float64(r.p99)/float64(r.floorP99))
	}
	fmt.Printf("\n%d readers × %d requests per run; %d publishes during the runs (%s); the page was rendered %d times.\n", readers, perReader, changed, elapsed.Round(time.Millisecond), builds)
	// Each change renders at most once (a change may land between two
	// renders and cost none), plus once a minute for the clock.
	if limit := changed + int64(elapsed/rebuildEvery) + 1; builds > limit {
		t.Errorf("the page was rendered %d times for %d changes in %s, want at most %d", builds, changed, elapsed, limit)
	}
}
