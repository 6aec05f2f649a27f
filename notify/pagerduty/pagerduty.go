// Package pagerduty pages through PagerDuty's Events API v2: each page
// Sitrep starts for an incident also sends a trigger, and resolving the
// incident sends a resolve, both with the dedup_key sitrep-<incident id>,
// so that a retried or repeated event reaches the same PagerDuty alert and
// nothing is paged twice. It is an integration of the delivery engine
// (notify): recorded first, delivered after, 429 and 5xx retried with
// backoff, a 400 (a bad routing key) reported to the incident once.
package pagerduty

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/notify"
)

// DefaultURL is the Events API v2 endpoint.
const DefaultURL = "https://events.pagerduty.com/v2/enqueue"

// Config says where events go.
type Config struct {
	URL string // PAGERDUTY_EVENTS_URL; "" is DefaultURL
	// RoutingKey is PAGERDUTY_ROUTING_KEY, for pages whose policy has no
	// routing_key of its own.
	RoutingKey string
	// PolicyKey returns an escalation policy's own routing key, "" for
	// none.
	PolicyKey func(policy string) string
	// Refused is told once when PagerDuty refuses an event outright (a
	// 400: a wrong routing key), so that the incident's people hear of
	// it; the event is not sent again.
	Refused func(ctx context.Context, number int64, problem string) error
	Client  *http.Client
	// Link returns a link to the incident for PagerDuty's alert, "" for
	// none.
	Link func(inc *incident.Incident) string
}

// Integration sends an incident's pages to PagerDuty.
type Integration struct{ conf Config }

// New returns the integration.
func New(conf Config) *Integration {
	if conf.URL == "" {
		conf.URL = DefaultURL
	}
	if conf.Client == nil {
		conf.Client = &http.Client{Timeout: 10 * time.Second}
	}
	return &Integration{conf: conf}
}

// Name implements notify.Integration.
func (*Integration) Name() string { return "pagerduty" }

// state is the integration's progress with one incident: the events it
// has finished with, and the routing key its alert was triggered with
// (resolve must use the same key, or PagerDuty drops it silently).
type state struct {
	Seq       int64  `json:"seq"`
	Key       string `json:"key,omitempty"`
	Triggered bool   `json:"triggered,omitempty"`
}

// DedupKey is the PagerDuty dedup_key of an incident.
func DedupKey(inc *incident.Incident) string { return "sitrep-" + inc.ID }

// Deliver implements notify.Integration.
func (in *Integration) Deliver(ctx context.Context, inc *incident.Incident, events []incident.Event, d *incident.Delivery, save func() error) error {
	var st state
	if len(d.State) > 0 {
		if err := json.Unmarshal(d.State, &st); err != nil {
			return fmt.Errorf("read PagerDuty progress: %w", err)
		}
	}
	done := func(seq int64) error {
		st.Seq = seq
		b, err := json.Marshal(st)
		if err != nil {
			return err
		}
		d.State = b
		return save()
	}
	for _, ev := range events {
		if ev.Seq <= st.Seq {
			continue
		}
		switch {
		case ev.Kind == incident.KindPage && !st.Triggered && ev.Data["escalated"] != "true":
			key := in.key(ev.Data["policy"])
			if key == "" {
				break // PagerDuty is off for this page
			}
			err := in.send(ctx, trigger(inc, ev, key, in.link(inc)))
			var refused *refusedError
			if errors.As(err, &refused) {
				if rerr := in.refused(ctx, inc.Number, refused); rerr != nil {
					return rerr
				}
				break // told once; sending it again would be refused again
			}
			if err != nil {
				return err
			}
			st.Triggered, st.Key = true, key
		case ev.Kind == incident.KindResolved && st.Triggered:
			err := in.send(ctx, event{RoutingKey: st.Key, DedupKey: DedupKey(inc), Action: "resolve"})
			var refused *refusedError
			if errors.As(err, &refused) {
				if rerr := in.refused(ctx, inc.Number, refused); rerr != nil {
					return rerr
				}
			} else if err != nil {
				return err
			}
			// A page after a reopen opens a new PagerDuty alert.
			st.Triggered = false
		default:
			continue
		}
		if err := done(ev.Seq); err != nil {
			return err
		}
	}
	return nil
}

func (in *Integration) refused(ctx context.Context, number int64, r *refusedError) error {
	if in.conf.Refused == nil {
		return nil
	}
	return in.conf.Refused(ctx, number, r.Error())
}

func (in *Integration) key(policy string) string {
	if policy != "" && in.conf.PolicyKey != nil {
		if k := in.conf.PolicyKey(policy); k != "" {
			return k
		}
	}
	return in.conf.RoutingKey
}

func (in *Integration) link(inc *incident.Incident) string {
	if in.conf.Link == nil {
		return ""
	}
	return in.conf.Link(inc)
}

// event is an Events API v2 request body.
type event struct {
	RoutingKey string   `json:"routing_key"`
	DedupKey   string   `json:"dedup_key"`
	Action     string   `json:"event_action"`
	Payload    *payload `json:"payload,omitempty"`
	Client     string   `json:"client,omitempty"`
	ClientURL  string   `json:"client_url,omitempty"`
	Links      []link   `json:"links,omitempty"`
}

type payload struct {
	Summary       string            `json:"summary"`
	Source        string            `json:"source"`
	Severity      string            `json:"severity"`
	Timestamp     string            `json:"timestamp,omitempty"`
	Component     string            `json:"component,omitempty"`
	CustomDetails map[string]string `json:"custom_details,omitempty"`
}

type link struct {
	Href string `json:"href"`
	Text string `json:"text,omitempty"`
}

// Summary is the PagerDuty alert's summary, which becomes its incident's
// title: it starts "Sitrep #<number>", by which the webhook finds the
// incident again (PagerDuty's webhooks carry no dedup_key).
func Summary(inc *incident.Incident) string {
	s := fmt.Sprintf("Sitrep #%d (%s): %s", inc.Number, inc.Severity, inc.Title)
	if r := []rune(s); len(r) > 1024 {
		s = string(r[:1023]) + "…"
	}
	return s
}

func trigger(inc *incident.Incident, ev incident.Event, key, url string) event {
	sev := "error"
	if inc.Severity == "sev0" || inc.Severity == "sev1" {
		sev = "critical"
	}
	details := map[string]string{"incident": strconv.FormatInt(inc.Number, 10), "severity": inc.Severity, "status": string(inc.Status)}
	if ev.Text != "" {
		details["message"] = ev.Text
	}
	if ev.Data["policy"] != "" {
		details["policy"] = ev.Data["policy"]
	}
	e := event{RoutingKey: key, DedupKey: DedupKey(inc), Action: "trigger", Client: "Sitrep",
		Payload: &payload{Summary: Summary(inc), Source: "sitrep", Severity: sev, Timestamp: ev.At.UTC().Format("2006-01-02T15:04:05.000Z"),
			Component: strings.Join(inc.Services, ","), CustomDetails: details}}
	if url != "" {
		e.ClientURL = url
		e.Links = []link{{Href: url, Text: "Incident in Slack"}}
	}
	return e
}

// response is PagerDuty's answer.
type response struct {
	Status   string   `json:"status"`
	Message  string   `json:"message"`
	DedupKey string   `json:"dedup_key"`
	Errors   []string `json:"errors"`
}

// refusedError is a 400: the event will never be taken as it is.
type refusedError struct{ msg string }

func (e *refusedError) Error() string { return e.msg }

// httpError is an answer worth retrying: 429, 5xx.
type httpError struct {
	status int
	wait   time.Duration
}

func (e *httpError) Error() string { return fmt.Sprintf("PagerDuty answered %d", e.status) }

func (in *Integration) send(ctx context.Context, e event) error {
	body, err := json.Marshal(e)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.conf.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := in.conf.Client.Do(req)
	if err != nil {
		// Never the request itself in the error: its body holds the
		// routing key.
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) {
			return fmt.Errorf("PagerDuty %s: %w", e.Action, ue.Unwrap())
		}
		return fmt.Errorf("PagerDuty %s: network error", e.Action)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var r response
	_ = json.Unmarshal(raw, &r)
	switch {
	case resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusOK:
		return nil
	case resp.StatusCode == http.StatusBadRequest:
		msg := "PagerDuty refused the " + e.Action + " event"
		if len(r.Errors) > 0 {
			msg += ": " + strings.Join(r.Errors, "; ")
		} else if r.Message != "" {
			msg += ": " + r.Message
		}
		return &refusedError{msg + ". Check the routing key (PAGERDUTY_ROUTING_KEY or the policy's routing_key)"}
	case resp.StatusCode == http.StatusTooManyRequests:
		// The docs suggest 30 s between retries; Retry-After wins when
		// given.
		wait := 30 * time.Second
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			wait = time.Duration(s) * time.Second
		}
		return &httpError{status: resp.StatusCode, wait: wait}
	case resp.StatusCode >= 500:
		return &httpError{status: resp.StatusCode}
	}
	// Another 4xx (403, 404 at a wrong URL): a person must fix the setting.
	return &refusedError{fmt.Sprintf("PagerDuty answered %d to the %s event; check PAGERDUTY_EVENTS_URL", resp.StatusCode, e.Action)}
}

// Classify implements notify.Integration: 429 waits out the limit, 5xx
// and network errors are retried with backoff.
func (in *Integration) Classify(err error) notify.Failure {
	var he *httpError
	if errors.As(err, &he) {
		return notify.Failure{Wait: he.wait}
	}
	var re *refusedError
	if errors.As(err, &re) {
		return notify.Failure{Final: true, Problem: re.msg}
	}
	return notify.Failure{}
}
