// The fuzzing in .ci/run builds with -tags nosqlitebench: benchmarks on
// SQLite would make it compile SQLite's C code once more, for nothing.

//go:build !nosqlitebench

package intake_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/intake"
	"github.com/sitrep-dev/sitrep/intake/alertmanager"
	"github.com/sitrep-dev/sitrep/intake/route"
	"github.com/sitrep-dev/sitrep/storage/sqlite"
)

// BenchmarkAlertIntake measures what Sitrep spends taking one Alertmanager
// notification of ten new alerts, in-process (no network, no Slack): the
// handler, the route and the domain on a real SQLite store, with twenty
// senders at once as cmd/sitrep-bench sends them over loopback. Its CPU
// profile (-cpuprofile) shows what dominates the intake itself.
func BenchmarkAlertIntake(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	svc := incident.NewService(db, incident.DefaultConfig(), time.Now)
	router, err := route.New(route.Config{Routes: []route.Route{{Name: "pages", Matchers: []string{`severity="critical"`}, Action: "declare"}}}, nil, svc)
	if err != nil {
		b.Fatal(err)
	}
	h := intake.NewHandler([]intake.Source{alertmanager.Source{}}, map[string]string{"alertmanager": secret}, router, time.Now,
		slog.New(slog.NewJSONHandler(io.Discard, nil)))
	var next atomic.Int64
	post := func() {
		n := int(next.Add(1))
		req := httptest.NewRequest(http.MethodPost, "/hooks/alertmanager", bytes.NewReader(notification(fmt.Sprintf("svc-%d", n%8), n*10, 10)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+secret)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Errorf("answered %d %s", w.Code, w.Body)
		}
	}
	for range 200 { // the groups declared or capped, the caches warm
		post()
	}
	b.ResetTimer()
	b.SetParallelism(10) // 20 senders on 2 cores
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			post()
		}
	})
	b.ReportMetric(float64(b.N*10)/b.Elapsed().Seconds(), "alerts/s")
}

// notification is one Alertmanager notification of group with count new
// firing alerts numbered from first, shaped as
// testdata/shared/integrations/alertmanager/v4-firing-first-notification.json.
func notification(group string, first, count int) []byte {
	type alert struct {
		Status       string            `json:"status"`
		Labels       map[string]string `json:"labels"`
		Annotations  map[string]string `json:"annotations"`
		StartsAt     string            `json:"startsAt"`
		EndsAt       string            `json:"endsAt"`
		GeneratorURL string            `json:"generatorURL"`
		Fingerprint  string            `json:"fingerprint"`
	}
	var alerts []alert
	starts := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano)
	for n := first; n < first+count; n++ {
		alerts = append(alerts, alert{
			Status: "firing",
			Labels: map[string]string{"alertname": "HighErrorRate", "instance": fmt.Sprintf("web-%d", n), "job": group + "-api", "service": group, "severity": "critical"},
			Annotations: map[string]string{"description": "Error ratio is 7.2% (threshold 5%).", "runbook_url": "https://runbooks.example.internal/" + group,
				"summary": fmt.Sprintf("5xx ratio above 5%% on web-%d", n)},
			StartsAt: starts, EndsAt: "0001-01-01T00:00:00Z", GeneratorURL: "http://prometheus.example.internal:9090/graph",
			Fingerprint: fmt.Sprintf("%016x", uint64(n)*0x9e3779b97f4a7c15),
		})
	}
	b, _ := json.Marshal(map[string]any{
		"receiver": "sitrep", "status": "firing", "alerts": alerts, "groupLabels": map[string]string{"service": group},
		"commonLabels": map[string]string{"service": group}, "commonAnnotations": map[string]string{}, "externalURL": "http://alertmanager.example.internal:9093",
		"version": "4", "groupKey": fmt.Sprintf(`{}:{service=%q}`, group), "truncatedAlerts": 0,
	})
	return b
}
