package statuspage

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
)

// fakeSource is a settable list of published incidents.
type fakeSource struct {
	mu    sync.Mutex
	pubs  []incident.PublishedIncident
	reads int
}

func (f *fakeSource) Published(_ context.Context, since time.Time) ([]incident.PublishedIncident, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	return slices.Clone(f.pubs), nil
}

var (
	now        = time.Date(2026, 12, 6, 19, 30, 0, 0, time.UTC)
	components = []incident.Component{
		{Name: "API", Group: "Platform", Description: "REST and GraphQL"},
		{Name: "Webhooks", Group: "Platform"},
		{Name: "Web app"},
	}
)

// seed004 is seed 004's incident as published from Sitrep: identified,
// escalated to a major outage, monitoring, resolved, a day and a half
// before now.
func seed004() incident.PublishedIncident {
	start := now.Add(-46 * time.Hour)
	up := func(d time.Duration, st incident.PublicStatus, msg string, comps ...incident.ComponentImpact) incident.PublicUpdate {
		return incident.PublicUpdate{Title: "Sub system degradation: Care", Status: st, Message: msg, Components: comps, By: "U0SECRET1", At: start.Add(d)}
	}
	return incident.PublishedIncident{IncidentID: "uuid-1", Page: incident.PublicPage{ID: "z3lct0r596n4", Updates: []incident.PublicUpdate{
		up(0, incident.PublicIdentified, "We started experiencing an issue with the notification system.", incident.ComponentImpact{Name: "API", Status: incident.PartialOutage}),
		up(8*time.Hour, incident.PublicIdentified, "We have escalated the issue to major outage and working all hands on deck to resolve it", incident.ComponentImpact{Name: "API", Status: incident.MajorOutage}, incident.ComponentImpact{Name: "Web app", Status: incident.DegradedPerformance}),
		up(11*time.Hour, incident.PublicMonitoring, "A fix has been implemented and we are monitoring the results."),
		up(22*time.Hour, incident.PublicResolved, "This incident has been resolved.", incident.ComponentImpact{Name: "API", Status: incident.Operational}, incident.ComponentImpact{Name: "Web app", Status: incident.Operational}),
	}}}
}

// hostile is ongoing, with text that would be markup if it were not
// escaped, and a 10,000-character message.
func hostile() incident.PublishedIncident {
	long := strings.Repeat("long ", 2000)
	return incident.PublishedIncident{IncidentID: "uuid-2", Page: incident.PublicPage{ID: "h0st1le00000", Updates: []incident.PublicUpdate{
		{Title: `<script>alert(1)</script> & "checkout"`, Status: incident.PublicInvestigating, By: "U0SECRET2", At: now.Add(-time.Hour),
			Message:    "**bold** <img src=x onerror=alert(2)> ]]> </content>\n" + long,
			Components: []incident.ComponentImpact{{Name: "Webhooks", Status: incident.PartialOutage}}},
	}}}
}

func newServer(t *testing.T, src Source, cfg Config) (*Server, *httptest.Server, *time.Time) {
	t.Helper()
	clk := now
	if cfg.Name == "" {
		cfg.Name = "Acme"
	}
	if cfg.Components == nil {
		cfg.Components = components
	}
	s, err := New(src, cfg, func() time.Time { return clk }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts, &clk
}

func get(t *testing.T, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// keys returns the keys of a JSON object.
func keys(t *testing.T, v any) []string {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%T is not an object", v)
	}
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// fixture reads one of the Statuspage payloads kept in testdata.
func fixture(t *testing.T, name string) any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "shared", "integrations", "statuspage", name))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

var isoRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// The JSON endpoints use Statuspage's field names (those of the real
// incident and component objects kept in testdata), status words,
// indicator values and times.
func TestJSONHasStatuspageShapes(t *testing.T) {
	src := &fakeSource{pubs: []incident.PublishedIncident{hostile(), seed004()}}
	_, ts, _ := newServer(t, src, Config{URL: "https://status.example.com/"})

	hook := fixture(t, "subscriber-webhook-incident-resolved.json").(map[string]any)
	realIncident := hook["incident"].(map[string]any)
	realUpdate := realIncident["incident_updates"].([]any)[0]
	realComponent := fixture(t, "components-list.response.json").([]any)[0]
	allowed := func(real any, extra ...string) []string { return append(keys(t, real), extra...) }
	// Fields of the public v2 API that the Manage API's objects lack.
	incidentKeys := allowed(realIncident, "started_at")
	componentKeys := allowed(realComponent, "components")
	subset := func(what string, got []string, allowed []string, required ...string) {
		t.Helper()
		for _, k := range got {
			if !slices.Contains(allowed, k) {
				t.Errorf("%s has field %q, which Statuspage's %s has not", what, k, what)
			}
		}
		for _, k := range required {
			if !slices.Contains(got, k) {
				t.Errorf("%s lacks %q", what, k)
			}
		}
	}

	var summary map[string]any
	_, body := get(t, ts.URL+"/api/v2/summary.json")
	if err := json.Unmarshal([]byte(body), &summary); err != nil {
		t.Fatalf("summary.json: %v\n%s", err, body)
	}
	if got := strings.Join(keys(t, summary), ","); got != "components,incidents,page,scheduled_maintenances,status" {
		t.Errorf("summary.json keys: %s", got)
	}
	st := summary["status"].(map[string]any)
	if st["indicator"] != "major" || st["description"] != "Partial System Outage" {
		t.Errorf("status = %v, want major / Partial System Outage (Webhooks partially out)", st)
	}
	page := summary["page"].(map[string]any)
	if page["url"] != "https://status.example.com" || page["time_zone"] != "UTC" || !isoRE.MatchString(page["updated_at"].(string)) {
		t.Errorf("page = %v", page)
	}
	comps := summary["components"].([]any)
	var names []string
	for _, c := range comps {
		subset("component", keys(t, c), componentKeys, "id", "name", "status", "position", "group_id", "group", "page_id", "created_at", "updated_at")
		cm := c.(map[string]any)
		names = append(names, cm["name"].(string)+"="+cm["status"].(string))
		if cm["name"] == "Webhooks" && cm["group_id"] == nil {
			t.Errorf("Webhooks has no group_id: %v", cm)
		}
	}
	if got := strings.Join(names, " "); got != "Platform=partial_outage API=operational Webhooks=partial_outage Web app=operational" {
		t.Errorf("components: %s", got)
	}
	incs := summary["incidents"].([]any)
	if len(incs) != 1 {
		t.Fatalf("summary.json lists %d incidents, want the ongoing one", len(incs))
	}
	inc := incs[0].(map[string]any)
	subset("incident", keys(t, inc), incidentKeys, "id", "name", "status", "impact", "created_at", "updated_at", "monitoring_at", "resolved_at", "shortlink", "page_id", "incident_updates", "components")
	if inc["status"] != "investigating" || inc["impact"] != "major" || inc["resolved_at"] != nil || inc["shortlink"] != "https://status.example.com/incidents/h0st1le00000" {
		t.Errorf("ongoing incident = %v", inc)
	}
	for _, u := range inc["incident_updates"].([]any) {
		subset("incident update", keys(t, u), keys(t, realUpdate), "id", "status", "body", "created_at", "display_at", "affected_components", "incident_id")
		if !strings.Contains(u.(map[string]any)["body"].(string), "<img src=x") {
			t.Errorf("the body is not the text as published: %.80s", u.(map[string]any)["body"])
		}
	}

	var all map[string]any
	_, body = get(t, ts.URL+"/api/v2/incidents.json")
	if err := json.Unmarshal([]byte(body), &all); err != nil {
		t.Fatal(err)
	}
	list := all["incidents"].([]any)
	if len(list) != 2 {
		t.Fatalf("incidents.json lists %d, want 2", len(list))
	}
	resolved := list[1].(map[string]any)
	ups := resolved["incident_updates"].([]any)
	first := ups[0].(map[string]any)
	if resolved["status"] != "resolved" || resolved["impact"] != "critical" || first["status"] != "resolved" || len(ups) != 4 {
		t.Errorf("resolved incident: status %v impact %v, %d updates newest first starting %v", resolved["status"], resolved["impact"], len(ups), first["status"])
	}
	for _, k := range []string{"created_at", "updated_at", "monitoring_at", "resolved_at"} {
		if s, _ := resolved[k].(string); !isoRE.MatchString(s) {
			t.Errorf("%s = %v, want an ISO time with milliseconds", k, resolved[k])
		}
	}
	if resolved["resolved_at"] != first["created_at"] {
		t.Errorf("resolved_at %v is not the resolving update's time %v", resolved["resolved_at"], first["created_at"])
	}
	affected := ups[2].(map[string]any)["affected_components"].([]any)[0].(map[string]any)
	if got := strings.Join(keys(t, affected), ","); got != "code,name,new_status,old_status" {
		t.Errorf("affected component keys %s", got)
	}
	if affected["old_status"] != "partial_outage" || affected["new_status"] != "major_outage" {
		t.Errorf("the escalation reads %v", affected)
	}

	for _, p := range []string{"status.json", "components.json", "incidents/unresolved.json"} {
		resp, body := get(t, ts.URL+"/api/v2/"+p)
		var v map[string]any
		if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &v) != nil || v["page"] == nil {
			t.Errorf("%s: %d %.100s", p, resp.StatusCode, body)
		}
		if resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", p, resp.Header.Get("Content-Type"))
		}
	}
}

// The page shows the overall status, the components by group with 90 bars
// each, the ongoing incident with its updates, and 14 days; published
// text renders as text, whole.
func TestHTMLPage(t *testing.T) {
	src := &fakeSource{pubs: []incident.PublishedIncident{hostile(), seed004()}}
	_, ts, _ := newServer(t, src, Config{})
	resp, body := get(t, ts.URL+"/")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET / = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		"Partial System Outage",
		"prefers-color-scheme:dark",
		`name="viewport"`,
		"&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;checkout&#34;",
		"&lt;img src=x onerror=alert(2)&gt;",
		strings.Repeat("long ", 1999) + "long",
		"<h3>Platform</h3>",
		"Sun, Dec 6, 2026",
		"Mon, Nov 23, 2026", // the 14th day
		"No incidents reported.",
		"Sub system degradation: Care",
		"Dec 4, 2026: partial outage 2h 30m (Sub system degradation: Care)",
		"Dec 5, 2026: major outage 14h, partial outage 5h 30m (Sub system degradation: Care)",
		"Dec 5, 2026: degraded performance 14h (Sub system degradation: Care)",
		"No downtime recorded",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(body, "<script") || strings.Contains(body, "<img") {
		t.Errorf("published text became markup")
	}
	if strings.Contains(body, "Sat, Nov 22, 2026") {
		t.Errorf("the page lists a 15th day")
	}
	if n := strings.Count(body, `<li class="b-`); n != 3*Days {
		t.Errorf("%d uptime bars, want %d (90 for each of 3 components)", n, 3*Days)
	}
	// API: 14h of major outage and 30% of 8h of partial outage over 89
	// days and 19.5 hours: 1 - (14h + 2.4h) / 2155.5h = 99.239%, shown
	// rounded down.
	if !strings.Contains(body, "99.23% uptime") || !strings.Contains(body, "100% uptime") {
		t.Errorf("uptime figures missing")
	}
	resp, body = get(t, ts.URL+"/incidents/z3lct0r596n4")
	if resp.StatusCode != 200 || !strings.Contains(body, "Resolved · lasted 22h") || !strings.Contains(body, "Affected: API, Web app") || !strings.Contains(body, "A fix has been implemented") {
		t.Errorf("incident page: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := get(t, ts.URL+"/incidents/nope"); resp.StatusCode != 404 {
		t.Errorf("unknown incident: %d", resp.StatusCode)
	}
}

// The feed is valid Atom: it parses, each incident is an entry, and its
// content is the updates' text as published.
func TestAtomFeed(t *testing.T) {
	src := &fakeSource{pubs: []incident.PublishedIncident{hostile(), seed004()}}
	_, ts, _ := newServer(t, src, Config{URL: "https://status.example.com"})
	resp, body := get(t, ts.URL+"/history.atom")
	if resp.Header.Get("Content-Type") != "application/atom+xml; charset=utf-8" {
		t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
	}
	var feed struct {
		XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
		ID      string   `xml:"id"`
		Updated string   `xml:"updated"`
		Entries []struct {
			ID      string `xml:"id"`
			Title   string `xml:"title"`
			Updated string `xml:"updated"`
			Link    struct {
				Href string `xml:"href,attr"`
			} `xml:"link"`
			Content struct {
				Type string `xml:"type,attr"`
				Body string `xml:",chardata"`
			} `xml:"content"`
		} `xml:"entry"`
	}
	dec := xml.NewDecoder(strings.NewReader(body))
	dec.Strict = true
	if err := dec.Decode(&feed); err != nil {
		t.Fatalf("the feed does not parse: %v", err)
	}
	if feed.ID == "" || len(feed.Entries) != 2 {
		t.Fatalf("feed id %q with %d entries", feed.ID, len(feed.Entries))
	}
	e := feed.Entries[0]
	if e.Title != `<script>alert(1)</script> & "checkout"` || e.Content.Type != "html" || e.Link.Href != "https://status.example.com/incidents/h0st1le00000" {
		t.Errorf("entry: %+v", e.Title)
	}
	if !strings.Contains(e.Content.Body, "&lt;img src=x onerror=alert(2)&gt; ]]&gt; &lt;/content&gt;") {
		t.Errorf("entry content is not the escaped text: %.200s", e.Content.Body)
	}
	if _, err := time.Parse(time.RFC3339, feed.Updated); err != nil {
		t.Errorf("updated %q: %v", feed.Updated, err)
	}
}

// Many readers cost one rendering per change; a reader that has the page
// gets a 304; the listener serves the page and nothing else.
func TestCachingAndPaths(t *testing.T) {
	src := &fakeSource{pubs: []incident.PublishedIncident{seed004()}}
	s, ts, clk := newServer(t, src, Config{})
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			get(t, ts.URL+"/api/v2/summary.json")
		}()
	}
	wg.Wait()
	if s.Builds() != 1 || src.reads != 1 {
		t.Errorf("20 readers caused %d renderings and %d reads, want 1", s.Builds(), src.reads)
	}
	resp, _ := get(t, ts.URL+"/")
	etag, modified := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if etag == "" || modified == "" || resp.Header.Get("Cache-Control") != "public, max-age=10" {
		t.Fatalf("headers: %v", resp.Header)
	}
	if resp, body := get(t, ts.URL+"/", "If-None-Match", etag); resp.StatusCode != http.StatusNotModified || body != "" {
		t.Errorf("If-None-Match: %d", resp.StatusCode)
	}
	if resp, _ := get(t, ts.URL+"/", "If-Modified-Since", modified); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-Modified-Since: %d", resp.StatusCode)
	}
	// A change renders once more; what did not change keeps its ETag.
	src.mu.Lock()
	src.pubs = append(src.pubs, hostile())
	src.mu.Unlock()
	s.Changed()
	resp, _ = get(t, ts.URL+"/")
	if resp.Header.Get("ETag") == etag || s.Builds() != 2 {
		t.Errorf("after a change: ETag %s (was %s), %d renderings", resp.Header.Get("ETag"), etag, s.Builds())
	}
	r1, _ := get(t, ts.URL+"/incidents/z3lct0r596n4")
	s.Changed()
	r2, _ := get(t, ts.URL+"/incidents/z3lct0r596n4")
	if r1.Header.Get("ETag") != r2.Header.Get("ETag") || r1.Header.Get("Last-Modified") != r2.Header.Get("Last-Modified") {
		t.Errorf("an unchanged incident page changed its validators")
	}
	// A minute later the time-dependent parts render again by themselves.
	*clk = clk.Add(2 * time.Minute)
	get(t, ts.URL+"/")
	if s.Builds() != 4 {
		t.Errorf("%d renderings, want 4", s.Builds())
	}
	for _, p := range []string{"/slack/events", "/slack/commands", "/hooks/alertmanager", "/metrics", "/healthz", "/api/v2/../../metrics", "/incidents/"} {
		if resp, _ := get(t, ts.URL+p); resp.StatusCode != 404 {
			t.Errorf("GET %s = %d, want 404", p, resp.StatusCode)
		}
	}
	resp, err := http.Post(ts.URL+"/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST / = %d", resp.StatusCode)
	}
}

// A company's template in templates_dir replaces the embedded one, and a
// broken one stops start-up with its name.
func TestTemplateOverride(t *testing.T) {
	dir := t.TempDir()
	tmpl := `{{define "index"}}<h1>Branded {{.Page.Name}}: {{.Page.Status.Description}}</h1>{{end}}{{define "incident"}}{{.Incident.Name}}{{end}}`
	if err := os.WriteFile(filepath.Join(dir, "status.html.tmpl"), []byte(tmpl), 0o644); err != nil {
		t.Fatal(err)
	}
	_, ts, _ := newServer(t, &fakeSource{}, Config{TemplatesDir: dir})
	if _, body := get(t, ts.URL+"/"); body != "<h1>Branded Acme: All Systems Operational</h1>" {
		t.Errorf("override rendered %q", body)
	}
	if err := os.WriteFile(filepath.Join(dir, "status.html.tmpl"), []byte(`{{define "index"}}{{end}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := New(&fakeSource{}, Config{TemplatesDir: dir}, time.Now, slog.Default())
	if err == nil || !strings.Contains(err.Error(), `must define "incident"`) {
		t.Errorf("New with a template lacking incident = %v", err)
	}
}

// TestFormatUptime: two decimals at most, rounded down, so that any time
// down shows below 100%.
func TestFormatUptime(t *testing.T) {
	day := 24 * time.Hour
	for _, c := range []struct {
		down, total time.Duration
		want        string
	}{
		{0, 90 * day, "100"},
		{time.Minute, 90 * day, "99.99"},
		{90 * day / 200, 90 * day, "99.5"},
		{day, 90 * day, "98.88"},
		{90 * day, 90 * day, "0"},
		{0, 0, "100"},
	} {
		if got := formatUptime(c.down, c.total); got != c.want {
			t.Errorf("formatUptime(%s, %s) = %q, want %q", c.down, c.total, got, c.want)
		}
	}
}
