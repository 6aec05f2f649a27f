package main

import (
	"net/http"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/notify"
	"github.com/sitrep-dev/sitrep/notify/pagerduty"
	"github.com/sitrep-dev/sitrep/notify/twilio"
)

// providers are the outbound integrations the settings turn on, driven by
// the delivery engine beside Slack.
func providers(cfg *settings, svc *incident.Service) []notify.Integration {
	var out []notify.Integration
	if cfg.PagerDutyOn() {
		plan := cfg.Paging
		out = append(out, pagerduty.New(pagerduty.Config{
			URL:        cfg.PagerDutyEventsURL,
			RoutingKey: cfg.PagerDutyRoutingKey,
			PolicyKey:  func(name string) string { p, _ := plan.Policy(name); return p.RoutingKey },
			Refused:    svc.RecordPageProblem,
			Client:     &http.Client{Timeout: 10 * time.Second},
		}))
	}
	if cfg.TwilioOn() {
		plan := cfg.Paging
		out = append(out, twilio.New(twilio.Config{
			AccountSID: cfg.TwilioAccountSID, AuthToken: cfg.TwilioAuthToken, From: cfg.TwilioFrom,
			URL: cfg.TwilioAPIURL, PublicURL: cfg.PublicURL,
			Phone:   func(u string) string { return plan.Phones[u] },
			Refused: svc.RecordPageProblem,
			Client:  &http.Client{Timeout: 15 * time.Second},
		}))
	}
	return out
}
