package metrics

import "github.com/prometheus/client_golang/prometheus"

// ClockOffset starts serving sitrep_clock_offset_seconds, read from
// offset at each scrape: how far ahead of this machine's clock the clock
// Sitrep runs on is (the database's, on PostgreSQL). Called at most once.
func (m *Metrics) ClockOffset(offset func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "sitrep_clock_offset_seconds",
		Help: "How far ahead of this machine's clock the database's clock is, which Sitrep runs on (negative: behind). Beyond a second or two, fix NTP on this machine or the database's.",
	}, offset))
}
