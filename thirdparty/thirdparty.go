// Package thirdparty watches the status pages of the services Sitrep's
// users depend on (seed 003: "check third parties' status pages"). It polls
// each Statuspage-style summary.json on its own schedule, with conditional
// requests, and keeps the latest answer in memory, so that asking "is it
// them?" during an incident never waits on a vendor: a slow, dead, huge or
// malformed page only makes its own entry say so.
package thirdparty

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sitrep-dev/sitrep/internal/clock"
)

// Page is one third party's status page.
type Page struct {
	Name string
	URL  string // the page people open
	// Summary is its Statuspage-style summary.json (Statuspage's public
	// API, /api/v2/summary.json); "" when the page has none, and then it
	// is only linked, not polled.
	Summary string
}

// Status is what a third party's page said when last read.
type Status struct {
	Page
	Indicator   string // none, minor, major, critical ("" before the first answer)
	Description string // "All Systems Operational"
	Incidents   []Incident
	CheckedAt   time.Time // when it last answered; zero if never
	// Problem says why the last poll failed ("" when it did not); the
	// last good answer is kept beside it.
	Problem string
}

// Incident is one of a third party's open incidents.
type Incident struct {
	Name, Status, Impact, URL string
	UpdatedAt                 time.Time
}

// Limits of one poll.
const (
	// Timeout bounds a poll: a page that answers slowly is skipped until
	// the next round, never waited on by anyone else.
	Timeout = 10 * time.Second
	// MaxBody is the most read of an answer; real summaries are a few
	// kilobytes.
	MaxBody = 1 << 20
	// maxRedirects is how many redirects a poll follows.
	maxRedirects = 3
	// DefaultInterval is how often each page is polled.
	DefaultInterval = 5 * time.Minute
)

// Poller keeps the third parties' statuses.
type Poller struct {
	pages    []Page
	client   *http.Client
	interval time.Duration
	clock    clock.Clock
	log      *slog.Logger
	timeout  time.Duration // Timeout; tests shorten it

	mu     sync.Mutex
	status map[string]*entry // by page name
}

type entry struct {
	Status
	etag, modified string
}

// New returns a Poller of pages every interval (0: DefaultInterval).
// client may be nil.
func New(pages []Page, interval time.Duration, client *http.Client, clk clock.Clock, log *slog.Logger) *Poller {
	if interval <= 0 {
		interval = DefaultInterval
	}
	if client == nil {
		client = &http.Client{}
	}
	c := *client
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("more than %d redirects", maxRedirects)
		}
		return nil
	}
	p := &Poller{pages: pages, client: &c, interval: interval, clock: clk, log: log, timeout: Timeout, status: map[string]*entry{}}
	for _, pg := range pages {
		p.status[pg.Name] = &entry{Status: Status{Page: pg}}
	}
	return p
}

// Statuses returns every page's latest status, in configured order. It
// never waits on a vendor.
func (p *Poller) Statuses() []Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Status, 0, len(p.pages))
	for _, pg := range p.pages {
		s := p.status[pg.Name].Status
		s.Incidents = slices.Clone(s.Incidents)
		out = append(out, s)
	}
	return out
}

// Run polls every page with a summary, each on its own, until ctx ends.
func (p *Poller) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, pg := range p.pages {
		if pg.Summary == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				p.Poll(ctx, pg)
				select {
				case <-ctx.Done():
					return
				case <-p.clock.Until(p.clock.Now().Add(p.interval)):
				}
			}
		}()
	}
	wg.Wait()
}

// summary is the part of summary.json read.
type summary struct {
	Status struct {
		Indicator   string `json:"indicator"`
		Description string `json:"description"`
	} `json:"status"`
	Incidents []struct {
		Name      string    `json:"name"`
		Status    string    `json:"status"`
		Impact    string    `json:"impact"`
		Shortlink string    `json:"shortlink"`
		UpdatedAt time.Time `json:"updated_at"`
	} `json:"incidents"`
}

// Poll reads one page now and records what it said, or why it could not.
func (p *Poller) Poll(ctx context.Context, pg Page) {
	p.mu.Lock()
	e := p.status[pg.Name]
	etag, modified := e.etag, e.modified
	p.mu.Unlock()
	s, etag, modified, notModified, err := p.fetch(ctx, pg, etag, modified)
	p.mu.Lock()
	defer p.mu.Unlock()
	e = p.status[pg.Name]
	switch {
	case err != nil:
		e.Problem = err.Error()
		p.log.Warn("third-party status page unreadable", "page", pg.Name, "err", err)
	case notModified:
		e.Problem, e.CheckedAt = "", p.clock.Now()
	default:
		e.Problem, e.CheckedAt = "", p.clock.Now()
		e.etag, e.modified = etag, modified
		e.Indicator, e.Description = s.Status.Indicator, s.Status.Description
		e.Incidents = nil
		for _, i := range s.Incidents {
			if i.Status == "resolved" || i.Status == "postmortem" || i.Status == "completed" {
				continue
			}
			e.Incidents = append(e.Incidents, Incident{Name: i.Name, Status: i.Status, Impact: i.Impact, URL: i.Shortlink, UpdatedAt: i.UpdatedAt})
		}
	}
}

func (p *Poller) fetch(ctx context.Context, pg Page, etag, modified string) (s summary, newETag, newModified string, notModified bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, pg.Summary, nil)
	if err != nil {
		return s, "", "", false, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "Sitrep (third-party status check)")
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	if modified != "" {
		req.Header.Set("If-Modified-Since", modified)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return s, "", "", false, fmt.Errorf("no answer within %s", p.timeout)
		}
		return s, "", "", false, fmt.Errorf("unreachable: %s", shortErr(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified {
		return s, "", "", true, nil
	}
	if resp.StatusCode != http.StatusOK {
		return s, "", "", false, fmt.Errorf("answered HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if errors.Is(err, context.DeadlineExceeded) {
		return s, "", "", false, fmt.Errorf("no whole answer within %s", p.timeout)
	}
	if err != nil {
		return s, "", "", false, fmt.Errorf("answer cut off: %s", shortErr(err))
	}
	if len(body) > MaxBody {
		return s, "", "", false, fmt.Errorf("answer larger than %d KB; not a status summary", MaxBody>>10)
	}
	if err := json.Unmarshal(body, &s); err != nil || s.Status.Indicator == "" {
		return s, "", "", false, errors.New("answer is not a Statuspage-style summary.json")
	}
	return s, resp.Header.Get("ETag"), resp.Header.Get("Last-Modified"), false, nil
}

// shortErr keeps the last part of a network error: the cause, not the URL
// again.
func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && i+2 < len(s) {
		return s[i+2:]
	}
	return s
}
