// Package metrics serves Sitrep's figures in Prometheus's text format: the
// incidents by status and severity, how long Slack's requests take to
// answer, Sitrep's calls to Slack, the Slack work still waiting, and the
// prompts sent, beside the Go runtime's and the process's own.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sitrep-dev/sitrep/incident"
)

// statsTimeout bounds the database reads of one scrape, so that a locked
// or slow database shows as a scrape error instead of a hung scrape.
const statsTimeout = 5 * time.Second

// Metrics records what Sitrep measures and serves it. It implements
// bot.Metrics and notify.Metrics. It is safe for concurrent use.
type Metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.HistogramVec
	calls        *prometheus.CounterVec
	callDuration *prometheus.HistogramVec
	prompts      *prometheus.CounterVec
	passes       *prometheus.HistogramVec
	pages        *prometheus.CounterVec
	tta          prometheus.Histogram
	log          *slog.Logger
}

// New returns Metrics for one Sitrep. svc is read at each scrape for the
// figures the database holds; version labels sitrep_build_info.
func New(svc *incident.Service, version string, log *slog.Logger) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sitrep_slack_request_duration_seconds",
			Help: "Time to answer a request from Slack (slash command, interaction, event), by kind and outcome. Slack gives up after 3 s.",
			// Fine at the bottom, where answers should be, with Slack's
			// 3 s limit as a bucket boundary.
			Buckets: []float64{.001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2, 3, 5, 10},
		}, []string{"kind", "outcome"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sitrep_slack_api_calls_total",
			Help: "Calls Sitrep made to Slack, by Web API method and result: ok, Slack's error code, ratelimited, http_5xx, network_error or timeout.",
		}, []string{"method", "result"}),
		callDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sitrep_slack_api_call_duration_seconds",
			Help:    "Duration of Sitrep's calls to Slack, by Web API method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method"}),
		prompts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sitrep_prompts_sent_total",
			Help: "Prompts posted in incident channels: status updates due or overdue (update), and missing postmortems (postmortem).",
		}, []string{"prompt"}),
		passes: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sitrep_delivery_pass_duration_seconds",
			Help:    "Passes of the delivery engine, by integration and outcome (ok, failed, limited, refused, interrupted), and how long each took.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"integration", "outcome"}),
		pages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sitrep_pages_total",
			Help: "Paging events: steps sent (page), steps after the first (escalated), acknowledgements (acknowledged), pages cancelled by resolving (cancelled) and pages nobody answered (exhausted).",
		}, []string{"event"}),
		tta: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sitrep_page_time_to_acknowledge_seconds",
			Help:    "How long pages waited for their acknowledgement.",
			Buckets: []float64{10, 30, 60, 120, 300, 600, 900, 1800, 3600},
		}),
		log: log,
	}
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "sitrep_build_info",
		Help:        "Always 1; the version label says which Sitrep is running.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	buildInfo.Set(1)
	m.reg.MustRegister(
		m.requests, m.calls, m.callDuration, m.prompts, m.passes, m.pages, m.tta, buildInfo,
		&storeCollector{svc: svc, log: log},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	// Kinds of prompt that exist from the start, so that rate() sees
	// their first one.
	for _, k := range []incident.PromptKind{incident.PromptUpdate, incident.PromptPostmortem} {
		m.prompts.WithLabelValues(string(k))
	}
	for _, e := range []string{"page", "escalated", "acknowledged", "cancelled", "exhausted"} {
		m.pages.WithLabelValues(e)
	}
	return m
}

// CountDBRoundTrips publishes sitrep_db_round_trips_total, read from
// roundTrips at each scrape. Only a database across a network has round
// trips: with SQLite the series is not published at all, rather than
// published as a 0 that would look like a measurement.
func (m *Metrics) CountDBRoundTrips(roundTrips func() uint64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "sitrep_db_round_trips_total",
		Help: "Round trips to PostgreSQL, counted on the connections: a request written and the start of its answer read. Background work (the pool's and the claims' pings, polling for changes, deliveries) is included.",
	}, func() float64 { return float64(roundTrips()) }))
}

// Page counts a paging event (bot.PageMetrics).
func (m *Metrics) Page(event string) { m.pages.WithLabelValues(event).Inc() }

// Acknowledged observes a page's time to acknowledge (bot.PageMetrics).
func (m *Metrics) Acknowledged(tta time.Duration) { m.tta.Observe(tta.Seconds()) }

// Handler serves the metrics. A scrape whose database reads fail still
// serves the rest, and reports the failure.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
		ErrorLog:      slog.NewLogLogger(m.log.Handler(), slog.LevelError),
	})
}

// Request implements bot.Metrics.
func (m *Metrics) Request(kind, outcome string, took time.Duration) {
	m.requests.WithLabelValues(kind, outcome).Observe(took.Seconds())
}

// SlackCall implements bot.Metrics.
func (m *Metrics) SlackCall(method, result string, took time.Duration) {
	m.calls.WithLabelValues(method, result).Inc()
	m.callDuration.WithLabelValues(method).Observe(took.Seconds())
}

// Prompt implements bot.Metrics.
func (m *Metrics) Prompt(kind string) { m.prompts.WithLabelValues(kind).Inc() }

// Pass implements notify.Metrics.
func (m *Metrics) Pass(integration, outcome string, took time.Duration) {
	m.passes.WithLabelValues(integration, outcome).Observe(took.Seconds())
}

// storeCollector reads the figures the database holds at each scrape, so
// they are right across restarts and however many Sitreps share it.
type storeCollector struct {
	svc *incident.Service
	log *slog.Logger
}

var (
	incidentsDesc = prometheus.NewDesc("sitrep_incidents",
		"Incidents by status and severity.", []string{"status", "severity"}, nil)
	pendingDesc = prometheus.NewDesc("sitrep_slack_pending_incidents",
		"Incidents with changes recorded but not yet shown in Slack.", nil, nil)
	oldestDesc = prometheus.NewDesc("sitrep_slack_pending_oldest_seconds",
		"Age of the oldest change recorded but not yet shown in Slack; 0 when none is waiting.", nil, nil)
)

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- incidentsDesc
	ch <- pendingDesc
	ch <- oldestDesc
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), statsTimeout)
	defer cancel()
	st, err := c.svc.Stats(ctx)
	if err != nil {
		c.log.Error("metrics: read the database", "err", err)
		for _, d := range []*prometheus.Desc{incidentsDesc, pendingDesc, oldestDesc} {
			ch <- prometheus.NewInvalidMetric(d, err)
		}
		return
	}
	// Every configured severity at every status, zeros included, so that a
	// series does not vanish when its last incident moves on. Severities
	// no longer configured still show while incidents have them.
	sevs := c.svc.Config().SeverityNames()
	counts := map[[2]string]int{}
	for _, n := range st.Counts {
		counts[[2]string{string(n.Status), n.Severity}] += n.N
		if !slices.Contains(sevs, n.Severity) {
			sevs = append(sevs, n.Severity)
		}
	}
	for _, status := range incident.Statuses {
		for _, sev := range sevs {
			ch <- prometheus.MustNewConstMetric(incidentsDesc, prometheus.GaugeValue, float64(counts[[2]string{string(status), sev}]), string(status), sev)
		}
	}
	// The names say Slack: it is the integration there is. Others get
	// their own series as they come, with the same query.
	pending, err := c.svc.Pending(ctx, "slack")
	if err != nil {
		c.log.Error("metrics: read what Slack has not caught up with", "err", err)
		ch <- prometheus.NewInvalidMetric(pendingDesc, err)
		ch <- prometheus.NewInvalidMetric(oldestDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(pending.Incidents))
	oldest := 0.0
	if !pending.Oldest.IsZero() {
		oldest = max(0, time.Since(pending.Oldest).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, oldest)
}
