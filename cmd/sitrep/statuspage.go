package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/internal/clock"
	"github.com/sitrep-dev/sitrep/notify"
	spmirror "github.com/sitrep-dev/sitrep/notify/statuspage"
	"github.com/sitrep-dev/sitrep/statuspage"
	"github.com/sitrep-dev/sitrep/thirdparty"
)

// serveStatusPage starts the public status page on its own listener
// (SITREP_STATUS_ADDR), when set: apart from /slack/*, /hooks/* and
// /metrics, so that a proxy exposing it to the internet exposes nothing
// else. It returns nil when the page is off.
func (p program) serveStatusPage(cfg *settings, svc *incident.Service, clk clock.Clock, log *slog.Logger) (*http.Server, error) {
	if cfg.StatusAddr == "" {
		return nil, nil
	}
	page, err := statuspage.New(svc, statusPageConfig(cfg), clk.Now, log.With("listener", "status"))
	if err != nil {
		return nil, fmt.Errorf("status page: %w", err)
	}
	// Every change may be a publish: the page renders again at the next
	// reader's request, once however many readers there are.
	svc.Subscribe(func(int64) { page.Changed() })
	ln, err := net.Listen("tcp", cfg.StatusAddr)
	if err != nil {
		return nil, fmt.Errorf("SITREP_STATUS_ADDR: %w", err)
	}
	srv := &http.Server{
		Handler:           page.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
			log.Error("status page listener stopped", "err", err)
		}
	}()
	log.Info("the public status page is listening", "addr", ln.Addr().String())
	if p.statusListening != nil {
		p.statusListening(ln.Addr())
	}
	return srv, nil
}

// statusPageConfig is the page's configuration from the settings.
func statusPageConfig(cfg *settings) statuspage.Config {
	return statuspage.Config{
		Name:         statusPageName(cfg.StatusPage),
		URL:          cfg.StatusPage.URL,
		Components:   cfg.Incident.Public.Components,
		TemplatesDir: cfg.TemplatesDir,
		TimeZone:     cfg.TimeZone,
	}
}

// statuspageMirror is the Atlassian Statuspage mirror, when
// STATUSPAGE_API_KEY and STATUSPAGE_PAGE_ID are set; tell reaches an
// incident's channel. It paces and waits out rate limits in real time,
// like Slack's delivery.
func statuspageMirror(cfg *settings, tell func(ctx context.Context, inc *incident.Incident, text string)) []notify.Integration {
	sp := cfg.Statuspage
	if sp.APIKey == "" {
		return nil
	}
	return []notify.Integration{spmirror.New(spmirror.Config{APIKey: sp.APIKey, PageID: sp.PageID, APIURL: sp.APIURL, Tell: tell}, nil, clock.Real{})}
}

// thirdPartyPoll is how often third parties' summaries are polled.
func thirdPartyPoll(cfg *settings) time.Duration {
	if cfg.ThirdPartyPoll > 0 {
		return cfg.ThirdPartyPoll
	}
	return thirdparty.DefaultInterval
}

// thirdParties is the poller of the status pages with a summary, nil when
// none has one.
func thirdParties(cfg *settings, clk clock.Clock, log *slog.Logger) *thirdparty.Poller {
	var pages []thirdparty.Page
	polled := false
	for _, l := range cfg.Incident.StatusPages {
		pages = append(pages, thirdparty.Page{Name: l.Name, URL: l.URL, Summary: l.Summary})
		polled = polled || l.Summary != ""
	}
	if !polled {
		return nil
	}
	return thirdparty.New(pages, thirdPartyPoll(cfg), nil, clk, log.With("poller", "third parties"))
}
