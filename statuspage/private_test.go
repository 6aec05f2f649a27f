package statuspage

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/storage/sqlite"
)

// Nothing internal reaches the status listener: with private and drill
// incidents declared, notes, updates and a draft written with a unique
// marker, and the responders' IDs known, a crawl of every URL the listener
// serves finds none of them, only what was published.
func TestNothingPrivateIsServed(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir()+"/sitrep.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg := incident.DefaultConfig()
	cfg.Public.Components = components
	clk := now.Add(-3 * time.Hour)
	svc := incident.NewService(db, cfg, func() time.Time { return clk })
	const marker = "ZQX-INTERNAL-7731"
	secret := []string{marker, "UCMDR0001", "UCOMMS002", "UDRILL003"}

	mustDeclare := func(d incident.Declaration) *incident.Incident {
		t.Helper()
		inc, err := svc.Declare(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		return inc
	}
	priv := mustDeclare(incident.Declaration{Title: "Private " + marker, Actor: "UCMDR0001", Private: true, Summary: marker})
	drill := mustDeclare(incident.Declaration{Title: "Drill " + marker, Actor: "UDRILL003", Drill: true})
	pub := mustDeclare(incident.Declaration{Title: "Internal title " + marker, Actor: "UCMDR0001", Summary: marker, Impact: marker, Services: []string{marker}})
	for _, inc := range []*incident.Incident{priv, drill, pub} {
		if _, err := svc.AddNote(ctx, inc.Number, "UCOMMS002", "note "+marker); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.PostUpdate(ctx, inc.Number, "UCOMMS002", "internal update "+marker); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AssignRole(ctx, inc.Number, inc.Commander(), "comms", "UCOMMS002"); err != nil {
			t.Fatal(err)
		}
	}
	p := incident.Publication{Title: "Checkout errors", Status: incident.PublicInvestigating, Message: "We are looking into errors at checkout.",
		Components: []incident.ComponentImpact{{Name: "API", Status: incident.MajorOutage}}}
	for _, inc := range []*incident.Incident{priv, drill} {
		if _, err := svc.Publish(ctx, inc.Number, "UCMDR0001", p); incident.ErrorCode(err) != incident.EFORBIDDEN {
			t.Fatalf("publishing #%d = %v, want it refused", inc.Number, err)
		}
	}
	clk = clk.Add(time.Minute)
	if _, err := svc.Publish(ctx, pub.Number, "UCMDR0001", p); err != nil {
		t.Fatal(err)
	}
	p.Status, p.Message = incident.PublicResolved, "Fixed."
	clk = clk.Add(time.Hour)
	if _, err := svc.Publish(ctx, pub.Number, "UCOMMS002", p); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Resolve(ctx, pub.Number, "UCMDR0001", "root cause "+marker); err != nil {
		t.Fatal(err)
	}
	// A draft someone wrote but nobody approved is not public either.
	approving := incident.NewService(db, func() incident.Config { c := cfg; c.Public.Approval = true; return c }(), func() time.Time { return clk })
	p.Status, p.Title, p.Message = incident.PublicMonitoring, "Draft "+marker, "draft "+marker
	if _, err := approving.Publish(ctx, pub.Number, "UCOMMS002", p); err != nil {
		t.Fatal(err)
	}

	s, err := New(svc, Config{Name: "Acme", Components: components}, func() time.Time { return now }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()

	hrefRE := regexp.MustCompile(`href="([^"]+)"`)
	seen := map[string]bool{}
	queue := []string{"/", "/history.atom", "/api/v2/summary.json", "/api/v2/status.json", "/api/v2/components.json", "/api/v2/incidents.json", "/api/v2/incidents/unresolved.json"}
	var pages int
	for len(queue) > 0 {
		path := queue[0]
		queue = queue[1:]
		if seen[path] {
			continue
		}
		seen[path] = true
		resp, body := get(t, ts.URL+path)
		if resp.StatusCode != 200 {
			t.Errorf("GET %s = %d", path, resp.StatusCode)
			continue
		}
		pages++
		for _, sec := range secret {
			if strings.Contains(body, sec) {
				t.Errorf("GET %s serves %q", path, sec)
			}
		}
		for _, m := range hrefRE.FindAllStringSubmatch(body, -1) {
			if strings.HasPrefix(m[1], "/") {
				queue = append(queue, m[1])
			}
		}
	}
	// Every URL the page itself lists, besides the ones asked for.
	for path := range s.snap.Load().files {
		if !seen[path] {
			t.Errorf("%s is served but the crawl did not reach it", path)
		}
	}
	if _, body := get(t, ts.URL+"/"); !strings.Contains(body, "Checkout errors") || !strings.Contains(body, "Fixed.") {
		t.Errorf("the published incident is not on the page")
	}
	if pages < 8 {
		t.Errorf("crawled %d pages, want every one", pages)
	}
}
