package postmortem_test

import (
	"io"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/postmortem"
	"github.com/sitrep-dev/sitrep/templates"
)

// BenchmarkRender10000 measures a postmortem of 10,000 timeline events from
// stored records to Markdown: Build and Render, as the postmortem command
// does them. The target is under 50 ms and 20 MB per operation.
func BenchmarkRender10000(b *testing.B) {
	inc, evs := many(10000)
	loc, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		b.Fatal(err)
	}
	tmpl, err := templates.Postmortem("")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		v := postmortem.Build(inc, evs, loc, name)
		if err := postmortem.Render(io.Discard, tmpl, v); err != nil {
			b.Fatal(err)
		}
	}
}
