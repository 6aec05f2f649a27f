package main

import (
	"net/http"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/notify"
	"github.com/sitrep-dev/sitrep/notify/pagerduty"
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
			Refused:    svc.RecordPagerDutyRefusal,
			Client:     &http.Client{Timeout: 10 * time.Second},
		}))
	}
	return out
}
