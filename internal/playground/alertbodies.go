package playground

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// AlertSource is a monitoring system the playground can send alerts as.
type AlertSource struct {
	Name  string // its name in POST /hooks/<name>
	Label string // how the page names it
	What  string // the alert it sends, for the page
	Auth  string // how the sender proves itself, for the page
}

// AlertSources are the senders of the playground's alert panel, in the
// order the page lists them. Each sends one alert, always the same one (the
// same key), so that firing it again after it resolved shows flapping, and
// a second Fire shows that a resend changes nothing.
var AlertSources = []AlertSource{
	{"alertmanager", "Prometheus Alertmanager", "5xx ratio above 5% on web-1", "Authorization: Bearer"},
	{"grafana", "Grafana", "Checkout p95 latency above 2s", "Authorization: Bearer"},
	{"sentry", "Sentry", "PaymentDeclinedError: card_declined", "Sentry-Hook-Signature (HMAC-SHA256 of the body)"},
	{"datadog", "Datadog", "Search is almost out of memory", "Authorization: Bearer"},
	{"pingdom", "Pingdom", "Checkout page is down: Timeout", "?token= in the URL"},
	{"statuscake", "StatusCake", "Checkout health is down", "?token= in the URL"},
	{"generic", "Generic webhook", "Nightly billing export failed", "Authorization: Bearer"},
	{"zendesk", "Zendesk (a customer's ticket)", "Checkout keeps failing with error 502", "X-Zendesk-Webhook-Signature (base64 HMAC-SHA256 of timestamp + body)"},
}

// alertBody is the webhook a sender sends for its alert firing or
// resolved at now: its body and content type. The bodies are the senders'
// own shapes, as recorded in testdata/shared/integrations/<sender>, with
// the playground's story (a checkout in trouble) and times of now.
func alertBody(source string, firing bool, now time.Time) (body []byte, contentType string, err error) {
	now = now.UTC()
	started := now.Add(-2 * time.Minute)
	rfc := func(t time.Time) string { return t.Format("2006-01-02T15:04:05.000Z") }
	ends := "0001-01-01T00:00:00Z"
	if !firing {
		ends = rfc(now)
	}
	status := map[bool]string{true: "firing", false: "resolved"}[firing]
	var v any
	switch source {
	case "alertmanager":
		// testdata/shared/integrations/alertmanager/v4-firing-first-notification.json
		labels := map[string]string{"alertname": "HighErrorRate", "instance": "web-1", "job": "checkout-api", "service": "checkout", "severity": "critical"}
		v = map[string]any{
			"receiver": "sitrep", "status": status,
			"alerts": []any{map[string]any{
				"status": status, "labels": labels,
				"annotations": map[string]string{
					"description": "Error ratio is 7.2% (threshold 5%).",
					"runbook_url": "https://runbooks.example.internal/checkout/high-error-rate",
					"summary":     "5xx ratio above 5% on web-1",
				},
				"startsAt": rfc(started), "endsAt": ends,
				"generatorURL": "http://prometheus.example.internal:9090/graph?g0.expr=job%3Ahttp_5xx_ratio%3Arate5m+%3E+0.05&g0.tab=1",
				"fingerprint":  "2ca2429e4f71b30e",
			}},
			"notification_reason": map[bool]string{true: "first notification", false: "resolved"}[firing],
			"groupLabels":         map[string]string{"alertname": "HighErrorRate", "service": "checkout"},
			"commonLabels":        labels,
			"commonAnnotations":   map[string]string{"runbook_url": "https://runbooks.example.internal/checkout/high-error-rate"},
			"routeLabels":         map[string]string{},
			"externalURL":         "http://alertmanager.example.internal:9093",
			"version":             "4",
			"groupKey":            `{}:{alertname="HighErrorRate", service="checkout"}`,
			"truncatedAlerts":     0,
		}
	case "grafana":
		// testdata/shared/integrations/grafana/webhook-firing-v11.json
		labels := map[string]string{"alertname": "CheckoutLatency", "grafana_folder": "checkout", "service": "checkout", "severity": "warning"}
		state, title := "alerting", "[FIRING:1] CheckoutLatency checkout"
		if !firing {
			state, title = "ok", "[RESOLVED] CheckoutLatency checkout"
		}
		v = map[string]any{
			"receiver": "Sitrep", "status": status,
			"alerts": []any{map[string]any{
				"status": status, "labels": labels,
				"annotations": map[string]string{"summary": "Checkout p95 latency above 2s", "description": "p95 is 2.7s over the last 5 minutes."},
				"startsAt":    rfc(started), "endsAt": ends,
				"generatorURL": "https://grafana.example.internal/alerting/grafana/c7a1e2f0/view?orgId=1",
				"fingerprint":  "e6349a25f5ef0e9e",
				"silenceURL":   "https://grafana.example.internal/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DCheckoutLatency&orgId=1",
				"dashboardURL": "https://grafana.example.internal/d/checkout?orgId=1",
				"panelURL":     "https://grafana.example.internal/d/checkout?orgId=1&viewPanel=4",
				"values":       map[string]float64{"A": 2.7, "C": 1},
				"valueString":  "[ var='A' labels={service=checkout} value=2.7 ], [ var='C' labels={service=checkout} value=1 ]",
			}},
			"groupLabels":       map[string]string{"alertname": "CheckoutLatency", "grafana_folder": "checkout"},
			"commonLabels":      labels,
			"commonAnnotations": map[string]string{"summary": "Checkout p95 latency above 2s"},
			"externalURL":       "https://grafana.example.internal/",
			"version":           "1",
			"groupKey":          `{}/{}:{alertname="CheckoutLatency", grafana_folder="checkout"}`,
			"truncatedAlerts":   0,
			"orgId":             1,
			"title":             title,
			"state":             state,
			"message":           "**" + map[bool]string{true: "Firing", false: "Resolved"}[firing] + "**\n\nValue: A=2.7, C=1\nLabels:\n - alertname = CheckoutLatency\n - service = checkout\n",
		}
	case "sentry":
		// testdata/shared/integrations/sentry/issue-created.json and
		// issue-resolved.json: Sentry's issue webhook.
		action, st := "created", "unresolved"
		if !firing {
			action, st = "resolved", "resolved"
		}
		v = map[string]any{
			"action": action,
			"data": map[string]any{"issue": map[string]any{
				"platform": "python", "lastSeen": rfc(now), "numComments": 0, "userCount": 12,
				"culprit": "checkout.payments in charge_card", "title": "PaymentDeclinedError: card_declined",
				"id": "4507311968", "assignedTo": nil, "logger": nil, "type": "error", "annotations": []any{},
				"metadata": map[string]string{"function": "charge_card", "type": "PaymentDeclinedError", "value": "card_declined", "filename": "checkout/payments.py"},
				"status":   st, "subscriptionDetails": nil, "isPublic": false, "hasSeen": false,
				"shortId": "CHECKOUT-3F", "shareId": nil, "firstSeen": rfc(started), "count": "48",
				"permalink": nil, "web_url": "https://example.sentry.io/issues/4507311968/", "level": "error",
				"isSubscribed": false, "isBookmarked": false,
				"project":       map[string]string{"platform": "python", "slug": "checkout", "id": "5216640", "name": "Checkout"},
				"statusDetails": map[string]any{},
			}},
			"installation": map[string]string{"uuid": "65027794-169a-4042-80d0-808ece377141"},
			"actor":        map[string]string{"type": "application", "id": "sentry", "name": "Sentry"},
		}
	case "datadog":
		// testdata/shared/integrations/datadog/sitrep-payload-triggered.rendered.json:
		// the webhook template the README gives, as Datadog renders it.
		transition, typ, st := "Triggered", "error", "was <= 500000000.0"
		if !firing {
			transition, typ, st = "Recovered", "success", "was > 500000000.0"
		}
		ms := strconv.FormatInt(now.UnixMilli(), 10)
		title := "[" + transition + " on {host:search-2}] Search is almost out of memory"
		v = map[string]any{
			"id": strconv.FormatInt(3089904566766935419+now.Unix()%1000, 10), "alert_id": "309811",
			"alert_cycle_key": "3089904566766935419", "aggreg_key": "9bd4ac313a4d1e8fae2482df7b77628",
			"alert_transition": transition, "alert_type": typ, "alert_priority": "P2", "alert_title": title,
			"alert_status": "system.mem.usable over service:search " + st + " on average during the last 30m.",
			"alert_scope":  "host:search-2,service:search", "alert_query": "avg(last_30m):avg:system.mem.usable{service:search} by {host} <= 500000000",
			"hostname": "search-2", "tags": "env:prod,host:search-2,monitor,service:search",
			"date": ms, "last_updated": ms, "event_type": "metric_alert_monitor", "title": title,
			"body": "system.mem.usable over service:search " + st + " on average during the last 30m.",
			"link": "https://app.datadoghq.com/monitors/309811", "org": map[string]string{"id": "11111", "name": "Example Org"},
		}
	case "pingdom":
		// testdata/shared/integrations/pingdom/webhook-http-up-to-down.json
		prev, cur, desc, long := "UP", "DOWN", "Timeout", "Timeout (> 30000 ms)"
		if !firing {
			prev, cur, desc, long = "DOWN", "UP", "OK", "The check is up again"
		}
		v = map[string]any{
			"check_id": 2048467, "check_name": "Checkout page", "check_type": "HTTP",
			"check_params": map[string]any{"basic_auth": false, "encryption": true, "full_url": "https://shop.example.com/checkout",
				"header": "User-Agent:Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)", "hostname": "shop.example.com",
				"ipv6": false, "port": 443, "url": "/checkout"},
			"tags": []string{"checkout"}, "previous_state": prev, "current_state": cur,
			"state_changed_timestamp": now.Unix(), "state_changed_utc_time": now.Format("2006-01-02T15:04:05"),
			"long_description": long, "description": desc,
			"first_probe":  map[string]string{"ip": "85.17.156.99", "ipv6": "2001:1af8:4100:a09b::454", "location": "Amsterdam 5, Netherlands"},
			"second_probe": map[string]string{"ip": "64.141.100.136", "ipv6": "", "location": "Calgary, Canada"},
		}
	case "statuscake":
		// testdata/shared/integrations/statuscake/webhook-down.form.txt:
		// a form, in StatusCake's field order. Its Token is StatusCake's
		// own (a hash of the account), not Sitrep's secret.
		st, code := "Down", "0"
		if !firing {
			st, code = "Up", "200"
		}
		form := "Token=c13346ca5e82579e6809471f71945014&Status=" + st + "&StatusCode=" + code +
			"&URL=" + url.QueryEscape("https://shop.example.com/health") + "&IP=203.0.113.10&Tags=" + url.QueryEscape("checkout,prod") +
			"&Name=" + url.QueryEscape("Checkout health") + "&CheckRate=300&ContactGroup=12345"
		return []byte(form), "application/x-www-form-urlencoded", nil
	case "generic":
		// Sitrep's own webhook (README, "Generic webhook").
		v = map[string]any{
			"dedup_key": "billing-export-nightly", "status": status, "title": "Nightly billing export failed",
			"severity": "warning", "labels": map[string]string{"job": "billing-export", "team": "payments"},
			"description": "The export to the ledger stopped at 41% with: connection reset by peer.",
			"links":       []map[string]string{{"text": "Job logs", "url": "https://ci.example.internal/jobs/billing-export"}},
			"started_at":  started.Format(time.RFC3339),
		}
	case "zendesk":
		// testdata/shared/integrations/zendesk/trigger-webhook-new-ticket.json:
		// the trigger body Sitrep publishes, every value a string. The
		// ticket fires while open and resolves once solved.
		st := map[bool]string{true: "Open", false: "Solved"}[firing]
		v = map[string]any{"ticket": map[string]any{
			"id": "35436", "title": "Checkout keeps failing with error 502",
			"description": "I tried to pay three times in the last ten minutes and every time I get \"502 Bad Gateway\". Order 88231.",
			"status":      st, "priority": "High", "ticket_type": "Incident", "tags": "checkout payment_failure web_widget",
			"url": "example.zendesk.com/agent/tickets/35436", "via": "Web Widget", "created_at": started.Format(time.RFC3339),
			"requester":    map[string]string{"id": "20978392", "name": "Maria Lopez", "email": "maria.lopez@example.com"},
			"organization": "Example Retail", "group": "Support",
		}}
	default:
		return nil, "", fmt.Errorf("the playground cannot send alerts as %q", source)
	}
	b, err := json.Marshal(v)
	return b, "application/json", err
}
