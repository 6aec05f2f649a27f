package main

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/intake"
	"github.com/sitrep-dev/sitrep/intake/alertmanager"
	"github.com/sitrep-dev/sitrep/intake/datadog"
	"github.com/sitrep-dev/sitrep/intake/generic"
	"github.com/sitrep-dev/sitrep/intake/grafana"
	"github.com/sitrep-dev/sitrep/intake/pingdom"
	"github.com/sitrep-dev/sitrep/intake/route"
	"github.com/sitrep-dev/sitrep/intake/sentry"
	"github.com/sitrep-dev/sitrep/intake/statuscake"
	"github.com/sitrep-dev/sitrep/intake/zendesk"
)

// alertIntake serves POST /hooks/<source>: the sources whose secret is set,
// routed by the config file's alerts.routes into the domain. The routes
// were checked when the settings were read.
func alertIntake(cfg *settings, svc *incident.Service, recorded func(), now func() time.Time, log *slog.Logger) (http.Handler, error) {
	router, err := route.New(cfg.Alerts, cfg.Incident.SeverityNames(), svc)
	if err != nil {
		return nil, &settingError{"SITREP_CONFIG", err.Error()}
	}
	router.Recorded = recorded
	router.Said = func(capped []string) {
		log.Warn("alerts have declared as many incidents as allowed this minute: these groups wait in triage instead",
			"max_declares_per_minute", router.Rules().MaxDeclaresPerMinute, "groups", strings.Join(capped, "; "))
	}
	sources := []intake.Source{alertmanager.Source{}, grafana.Source{}, sentry.Source{}, datadog.Source{}, pingdom.Source{}, statuscake.Source{}, generic.Source{}, zendesk.Source{Now: now}}
	return intake.NewHandler(sources, cfg.HookSecrets, router, now, log.With("in", "alerts")), nil
}
