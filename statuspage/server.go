package statuspage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	htmltemplate "html/template"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/templates"
)

// Config shapes the page.
type Config struct {
	Name       string // the company or product, in the heading ("Acme")
	URL        string // the page's public URL without a trailing slash; "" when unknown
	Components []incident.Component
	// TemplatesDir holds an override of templates.StatusPageFile; "" uses
	// the embedded one.
	TemplatesDir string
	TimeZone     *time.Location // nil means UTC
}

// Source is where the page reads what was published: incident.Service.
type Source interface {
	Published(ctx context.Context, since time.Time) ([]incident.PublishedIncident, error)
}

// MaxAge is how long a reader's cache may keep a response without asking
// again: short, so an update reaches customers within seconds, yet enough
// that a crowd refreshing during an outage mostly costs a 304.
const MaxAge = 10 * time.Second

// rebuildEvery bounds how stale the time-dependent parts (today's bar, an
// ongoing incident's duration) may get when nothing changes.
const rebuildEvery = time.Minute

// Server serves the status page. It renders every response of the page
// once per change (and once a minute), and answers readers from that.
type Server struct {
	src Source
	cfg Config
	now func() time.Time
	log *slog.Logger

	changes atomic.Int64 // counts Changed calls
	builds  atomic.Int64 // counts renders, for tests and metrics
	mu      sync.Mutex   // one build at a time
	snap    atomic.Pointer[snapshot]
}

// snapshot is the page as rendered after one change.
type snapshot struct {
	change int64
	at     time.Time
	files  map[string]file // by path
}

type file struct {
	body        []byte
	contentType string
	etag        string
	modified    time.Time
}

// New returns a Server; it checks the template now, so that a broken
// override stops start-up rather than the page.
func New(src Source, cfg Config, now func() time.Time, log *slog.Logger) (*Server, error) {
	if cfg.TimeZone == nil {
		cfg.TimeZone = time.UTC
	}
	cfg.URL = strings.TrimRight(cfg.URL, "/")
	s := &Server{src: src, cfg: cfg, now: now, log: log}
	if _, err := s.template(); err != nil {
		return nil, err
	}
	return s, nil
}

// Changed tells the page that something may have been published. It only
// counts: the next reader's request renders the page again.
func (s *Server) Changed() { s.changes.Add(1) }

// Builds reports how many times the page has been rendered.
func (s *Server) Builds() int64 { return s.builds.Load() }

func (s *Server) template() (*htmltemplate.Template, error) {
	loc := s.cfg.TimeZone
	return templates.StatusPage(s.cfg.TemplatesDir, htmltemplate.FuncMap{
		"when":     func(t time.Time) string { return t.In(loc).Format("Jan 2, 2006 · 15:04 MST") },
		"day":      func(t time.Time) string { return t.In(loc).Format("Mon, Jan 2, 2006") },
		"iso":      isoTime,
		"duration": func(i *Incident) string { return FormatDuration(i.Duration(s.now())) },
	})
}

// current returns the page as of the latest change, rendering it when a
// change (or a minute) has passed since the last rendering. A failed
// rendering keeps the last good page in service.
func (s *Server) current(ctx context.Context) (*snapshot, error) {
	change, now := s.changes.Load(), s.now()
	if sn := s.snap.Load(); sn != nil && sn.change == change && now.Sub(sn.at) < rebuildEvery {
		return sn, nil
	}
	old := s.snap.Load()
	if old != nil && !s.mu.TryLock() {
		// Another reader is rendering the change: everyone else gets
		// the page as it was until that is done, rather than queueing
		// behind it, so readers wait on bytes, never on rendering.
		return old, nil
	}
	if old == nil {
		s.mu.Lock()
	}
	defer s.mu.Unlock()
	change, now = s.changes.Load(), s.now()
	old = s.snap.Load()
	if old != nil && old.change == change && now.Sub(old.at) < rebuildEvery {
		return old, nil // built while this request waited
	}
	sn, err := s.build(ctx, change, now, old)
	if err != nil {
		if old != nil {
			s.log.Error("status page: rendering failed; serving the last good page", "err", err)
			return old, nil
		}
		return nil, err
	}
	s.snap.Store(sn)
	return sn, nil
}

// build renders every response of the page.
func (s *Server) build(ctx context.Context, change int64, now time.Time, old *snapshot) (*snapshot, error) {
	s.builds.Add(1)
	since := startOfDay(now.In(s.cfg.TimeZone)).AddDate(0, 0, -(Days - 1))
	pubs, err := s.src.Published(ctx, since)
	if err != nil {
		return nil, fmt.Errorf("read published incidents: %w", err)
	}
	v := Build(s.cfg.Name, s.cfg.URL, s.cfg.Components, pubs, now, s.cfg.TimeZone)
	tmpl, err := s.template()
	if err != nil {
		return nil, err
	}
	sn := &snapshot{change: change, at: now, files: map[string]file{}}
	add := func(path, contentType string, body []byte) {
		sum := sha256.Sum256(body)
		f := file{body: body, contentType: contentType, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, modified: now}
		// Last-Modified says when this body first appeared, so that a
		// reader asking If-Modified-Since learns of every change and of
		// nothing else.
		if old != nil {
			if prev, ok := old.files[path]; ok && prev.etag == f.etag {
				f.modified = prev.modified
			}
		}
		sn.files[path] = f
	}
	render := func(name string, inc *Incident) ([]byte, error) {
		title := s.cfg.Name + " status"
		if inc != nil {
			title = inc.Name + " · " + title
		}
		var b bytes.Buffer
		err := tmpl.ExecuteTemplate(&b, name, map[string]any{"Page": v, "Incident": inc, "Title": title, "Base": s.cfg.URL})
		return b.Bytes(), err
	}
	body, err := render("index", nil)
	if err != nil {
		return nil, fmt.Errorf("render the status page: %w", err)
	}
	add("/", "text/html; charset=utf-8", body)
	for _, inc := range v.Incidents {
		body, err := render("incident", inc)
		if err != nil {
			return nil, fmt.Errorf("render incident %s: %w", inc.ID, err)
		}
		add("/incidents/"+inc.ID, "text/html; charset=utf-8", body)
	}
	atom, err := v.Atom()
	if err != nil {
		return nil, fmt.Errorf("render the history feed: %w", err)
	}
	add("/history.atom", "application/atom+xml; charset=utf-8", atom)
	docs, err := v.JSON()
	if err != nil {
		return nil, fmt.Errorf("render the API: %w", err)
	}
	for name, b := range docs {
		add("/api/v2/"+name, "application/json; charset=utf-8", b)
	}
	return sn, nil
}

// Handler serves the page. It serves nothing but the page: the status
// listener is public, and Slack's, the hooks' and the metrics' paths are
// not found there.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		// The page needs no script, so none may run, whatever text was
		// published.
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "The status page is read-only: use GET.", http.StatusMethodNotAllowed)
			return
		}
		path := r.URL.Path
		if path == "/index.html" {
			path = "/"
		}
		sn, err := s.current(r.Context())
		if err != nil {
			s.log.Error("status page unavailable", "err", err)
			h.Set("Retry-After", "10")
			http.Error(w, "The status page is unavailable for a moment; try again shortly.", http.StatusServiceUnavailable)
			return
		}
		f, ok := sn.files[path]
		if !ok {
			h.Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(MaxAge.Seconds())))
			http.Error(w, "Not found. The status page is at /, its API under /api/v2/.", http.StatusNotFound)
			return
		}
		h.Set("Content-Type", f.contentType)
		h.Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(MaxAge.Seconds())))
		h.Set("ETag", f.etag)
		if strings.HasPrefix(path, "/api/") {
			// Statuspage's API is read from other sites' pages.
			h.Set("Access-Control-Allow-Origin", "*")
		}
		http.ServeContent(w, r, "", f.modified, bytes.NewReader(f.body))
	})
}
