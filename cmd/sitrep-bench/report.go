package main

import (
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// results is everything one run measured.
type results struct {
	cfg               config
	machine           machine
	loadBefore        string // /proc/loadavg when the run began and ended
	loadAfter         string
	program           programInfo
	started, finished time.Time

	startFresh, startExisting startSeries
	memIdle                   memory // after start and idling
	memAfterLoad              memory // right after the latency load
	memAfterIdle              memory // after idling again
	latency                   []latencyRun
	background                background
	events                    eventsResult
	alerts                    alertRun
	storm                     stormRun
	pg                        *pgResults // nil without -postgres
}

// The targets of issue 7.
const (
	targetRatio     = 1.5
	targetP99       = 20 * time.Millisecond
	targetEventRate = 0.5
	targetReady     = 200 * time.Millisecond
	targetIdleRSS   = 30 << 20
)

// The targets of issue 18.
const (
	targetAlertRate  = 2000 // alerts committed a second
	targetAlertRatio = 1.5  // p99 over the minimal server's
	targetStormCalls = 10   // Slack calls for a storm of one group
)

// machine describes where the run happened.
type machine struct {
	cpu    string
	cores  int
	goVer  string
	os     string
	kernel string
}

func describeMachine() machine {
	m := machine{cpu: "unknown", cores: runtime.NumCPU(), goVer: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH, os: runtime.GOOS}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
				m.os = strings.Trim(v, `"`)
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = strings.TrimSpace(string(b))
	}
	return m
}

// loadAverage is the first three fields of /proc/loadavg: how busy the
// machine was, which other work on a shared machine changes.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], ", ")
}

// notJudged is a quick run's verdict on every target.
const notJudged = "not judged (quick run)"

// met says whether a target is met.
func met(ok bool) string {
	if ok {
		return "met"
	}
	return "missed"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// thousands writes n with thin separators: 12,345.
func thousands(n int) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// render writes the report as Markdown that passes the repository's
// markdownlint settings.
func render(r *results) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	c := r.cfg
	m := r.machine

	p("# Sitrep benchmark report\n\n")
	if c.quick {
		p("Quick mode: a check that everything runs. The figures come from too few requests and starts " +
			"to mean anything, so no target is judged; run without -quick to measure.\n\n")
	}
	// A quick run's figures say nothing about the targets: judging them
	// would only alarm whoever tries the tool.
	judge := func(ok bool) string {
		if c.quick {
			return notJudged
		}
		return met(ok)
	}
	p("- Date: %s (took %s)\n", r.started.UTC().Format("2006-01-02 15:04 UTC"), r.finished.Sub(r.started).Round(time.Second))
	p("- Machine: %s, %d cores\n", m.cpu, m.cores)
	p("- OS: %s, Linux %s\n", m.os, m.kernel)
	p("- Go: %s\n", m.goVer)
	if r.loadBefore != "" {
		p("- Load average (1, 5, 15 min) before the run: %s; after: %s\n", r.loadBefore, r.loadAfter)
	}
	switch prog := r.program; {
	case prog.path != "":
		p("- Program: `%s`, given with `-sitrep`\n", prog.path)
	default:
		tree := ""
		if prog.revision != "" {
			tree = " at " + prog.revision
			if prog.modified {
				tree += " with uncommitted changes"
			}
		}
		flags := ""
		if prog.flags != "" {
			flags = fmt.Sprintf(" with `%s` (figures not comparable)", prog.flags)
		}
		p("- Program: `./cmd/sitrep` built from the tree%s%s\n", tree, flags)
	}
	p("\nThe command:\n\n```sh\n%s\n```\n\n", c.commandLine)

	p("## Slash-command acknowledgement latency\n\n")
	p("%s signed requests per command and server from %d concurrent clients on loopback, after %s warm-up requests, "+
		"in rounds of %s alternating between the servers. Latency is from sending a request to reading the whole answer.\n\n",
		thousands(c.requests), c.clients, thousands(c.warmup), thousands(c.round))
	p("| command | server | p50 | p90 | p99 | max | requests/s | errors |\n")
	p("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, run := range r.latency {
		for s, st := range run.servers {
			p("| `%s` | %s | %s | %s | %s | %s | %.0f | %d |\n", run.command, serverNames[s],
				ms(st.percentile(0.5)), ms(st.percentile(0.9)), ms(st.percentile(0.99)), ms(st.percentile(1)), st.rate(), st.errors)
		}
	}
	p("\n| target | measured | result |\n| --- | ---: | --- |\n")
	for _, run := range r.latency {
		sp99 := run.servers[srvSitrep].percentile(0.99)
		errs := run.servers[srvSitrep].errors + run.servers[srvMinimal].errors
		p("| `%s`: p99 Sitrep / minimal ≤ %.1f | %.2f | %s |\n", run.command, targetRatio, run.ratio(), judge(run.ratio() <= targetRatio && errs == 0))
		p("| `%s`: Sitrep p99 < %s | %s | %s |\n", run.command, ms(targetP99), ms(sp99), judge(sp99 < targetP99 && errs == 0))
	}
	for _, run := range r.latency {
		for s, st := range run.servers {
			if st.errors > 0 {
				p("\n%s failed %d `%s` requests; the first: %s\n", serverNames[s], st.errors, run.command, strings.ReplaceAll(st.firstErr, "|", "\\|"))
			}
		}
	}
	bg := r.background
	var calls []string
	for _, method := range slices.Sorted(maps.Keys(bg.calls)) {
		calls = append(calls, fmt.Sprintf("%s %d", method, bg.calls[method]))
	}
	if len(calls) == 0 {
		calls = []string{"none"}
	}
	stopped := fmt.Sprintf("it exited %s after SIGTERM", bg.stopTook.Round(time.Millisecond))
	if bg.stopKilled {
		stopped = fmt.Sprintf("it was still finishing acknowledged work %s after SIGTERM and was killed", c.stopGrace)
	}
	p("\nBackground work: each of the %s notes (warm-up included) was acknowledged after its timeline write; "+
		"the program then posts it to the incident's channel at Slack's pace (a burst of ten, then one a second), "+
		"so %s had been posted when the run ended and %s after idling %s. "+
		"Web API calls the fake Slack answered during the note run: %s. "+
		"The fake limits no rate of its own (it answers 429 only when a test injects it, and none was), "+
		"so the backlog is the program's own pacing. "+
		"The program logged %d warnings and %d errors in the whole run, and %s.\n\n",
		thousands(bg.notes), thousands(bg.postedByEnd), thousands(bg.postedByIdle), c.idle, strings.Join(calls, ", "),
		bg.warnLines, bg.errorLines, stopped)

	renderAlerts(p, r, judge)

	p("## Timeline events written per second\n\n")
	ev := r.events
	p("%s notes per variant through `incident.Service.AddNote` on a database opened by `sqlite.Open`, "+
		"and as many plain INSERTs of the same rows into the same `events` table, one per transaction, "+
		"through a second pool with the store's settings (WAL, synchronous NORMAL, BEGIN IMMEDIATE, one connection), "+
		"in alternating rounds of %s. The table held %s rows when the measured writes began.\n\n",
		thousands(c.events), thousands(c.round), thousands(int(ev.rowsBefore)))
	p("| writers | service events/s | plain INSERTs/s | service / plain |\n| ---: | ---: | ---: | ---: |\n")
	for _, v := range [][2]eventRate{ev.serial, ev.concurrent} {
		p("| %d | %.0f | %.0f | %.2f |\n", v[viaService].writers, v[viaService].perSecond(), v[viaPlain].perSecond(), eventRatio(v))
	}
	p("\n| target | measured | result |\n| --- | ---: | --- |\n")
	p("| service ≥ %.1f × plain INSERTs, 1 writer | %.2f | %s |\n", targetEventRate, eventRatio(ev.serial), judge(eventRatio(ev.serial) >= targetEventRate))
	p("| service ≥ %.1f × plain INSERTs, %d writers | %.2f | %s |\n\n", targetEventRate, c.writers, eventRatio(ev.concurrent), judge(eventRatio(ev.concurrent) >= targetEventRate))

	p("## Start-to-ready time and memory\n\n")
	p("From starting the process to the first 200 from `GET /readyz` (polled every 0.5 ms), %s each. "+
		"The existing database is the one the latency run left, with %s notes. "+
		"Memory is VmRSS from `/proc/<pid>/status` of the latency run's program.\n\n", plural(c.starts, "start"), thousands(bg.notes))
	p("| figure | measured | target | result |\n| --- | ---: | ---: | --- |\n")
	for _, s := range []struct {
		name string
		st   startSeries
	}{{"fresh database", r.startFresh}, {"existing database", r.startExisting}} {
		p("| start-to-ready, %s, median | %s | < %s | %s |\n", s.name, ms(s.st.median()), ms(targetReady), judge(s.st.median() < targetReady))
		p("| start-to-ready, %s, max | %s | < %s | %s |\n", s.name, ms(s.st.max()), ms(targetReady), judge(s.st.max() < targetReady))
	}
	for _, s := range []struct {
		name string
		st   startSeries
	}{{"fresh", r.startFresh}, {"existing", r.startExisting}} {
		var ts []string
		for _, t := range s.st.times {
			ts = append(ts, fmt.Sprintf("%.1f", float64(t)/float64(time.Millisecond)))
		}
		p("| start-to-ready, %s database, each start in order (ms) | %s | | |\n", s.name, strings.Join(ts, ", "))
	}
	p("| idle RSS, %s after start | %s | < %s | %s |\n", c.idle, mib(r.memIdle.rss), mib(targetIdleRSS), judge(r.memIdle.rss < targetIdleRSS))
	p("| RSS right after the latency load | %s | | |\n", mib(r.memAfterLoad.rss))
	p("| RSS after idling %s more | %s | | |\n", c.idle, mib(r.memAfterIdle.rss))
	p("| peak RSS (VmHWM) | %s | | |\n", mib(r.memAfterIdle.hwm))
	p("| threads idle / after the load | %d / %d | | |\n", r.memIdle.threads, r.memAfterLoad.threads)
	renderPostgres(p, r, judge)
	return wrap(b.String())
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return thousands(n) + " " + noun + "s"
}

func eventRatio(v [2]eventRate) float64 {
	if v[viaPlain].perSecond() == 0 {
		return 0
	}
	return v[viaService].perSecond() / v[viaPlain].perSecond()
}

// lineLimit is the repository's markdownlint line length (MD013).
const lineLimit = 100

// wrap folds paragraphs and list items of a Markdown document at
// lineLimit, keeping code spans whole. Headings, tables and blank lines
// pass through.
func wrap(doc string) string {
	var out strings.Builder
	for _, line := range strings.SplitAfter(doc, "\n") {
		text := strings.TrimSuffix(line, "\n")
		if len(text) <= lineLimit || strings.HasPrefix(text, "|") || strings.HasPrefix(text, "#") {
			out.WriteString(line)
			continue
		}
		indent := ""
		if strings.HasPrefix(text, "- ") {
			indent = "  "
		}
		width := 0
		for i, word := range words(text) {
			switch {
			case i == 0:
			case width+1+len(word) > lineLimit:
				out.WriteString("\n" + indent)
				width = len(indent)
			default:
				out.WriteByte(' ')
				width++
			}
			out.WriteString(word)
			width += len(word)
		}
		if strings.HasSuffix(line, "\n") {
			out.WriteByte('\n')
		}
	}
	return out.String()
}

// words splits a line at spaces outside code spans.
func words(line string) []string {
	var ws []string
	var cur strings.Builder
	inCode := false
	for _, r := range line {
		switch {
		case r == '`':
			inCode = !inCode
			cur.WriteRune(r)
		case r == ' ' && !inCode:
			if cur.Len() > 0 {
				ws = append(ws, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		ws = append(ws, cur.String())
	}
	return ws
}

// renderAlerts writes the alert intake and storm sections.
func renderAlerts(p func(string, ...any), r *results, judge func(bool) string) {
	c, a, st := r.cfg, r.alerts, r.storm
	p("## Alert intake\n\n")
	p("%s Alertmanager notifications (payload version 4, %d firing alerts each, every alert new, "+
		"%d groups taking turns) per server from %d concurrent senders on loopback, "+
		"each with `Authorization: Bearer`, after %s warm-up notifications, in rounds of %s alternating between the servers. "+
		"Sitrep runs with a route declaring an incident per group for critical alerts (the default cap of 5 declarations a minute "+
		"sends the other groups to triage). The minimal server reads the body and checks the token. "+
		"Latency is from sending a notification to reading the whole answer.\n\n",
		thousands(c.alertBodies), c.alertsPerBody, alertGroups, c.alertSenders, thousands(c.alertWarmup), thousands(c.alertRound))
	p("| server | p50 | p90 | p99 | max | notifications/s | errors |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for s, sv := range a.servers {
		p("| %s | %s | %s | %s | %s | %.0f | %d |\n", serverNames[s], ms(sv.percentile(0.5)), ms(sv.percentile(0.9)),
			ms(sv.percentile(0.99)), ms(sv.percentile(1)), sv.rate(), sv.errors)
	}
	p("\nCounted in Sitrep's database after the run: %s alerts committed during the measured rounds "+
		"(of %s sent in them), %s alerts in all against %s acknowledged with a 2xx (warm-up included), "+
		"%d incidents declared, %d groups.\n\n",
		thousands(a.committed), thousands(a.alertsSent), thousands(a.inDB), thousands(a.answered), a.incidents, a.groups)
	errs := a.servers[srvSitrep].errors + a.servers[srvMinimal].errors
	p("| target | measured | result |\n| --- | ---: | --- |\n")
	p("| alerts committed per second ≥ %s | %.0f | %s |\n", thousands(targetAlertRate), a.committedRate(),
		judge(a.committedRate() >= targetAlertRate && errs == 0 && a.inDB == a.answered))
	p("| p99 Sitrep / minimal ≤ %.1f | %.2f | %s |\n", targetAlertRatio, a.ratio(), judge(a.ratio() <= targetAlertRatio && errs == 0))
	for s, sv := range a.servers {
		if sv.errors > 0 {
			p("\n%s failed %d notifications; the first: %s\n", serverNames[s], sv.errors, strings.ReplaceAll(sv.firstErr, "|", "\\|"))
		}
	}

	p("\n### A storm of one group\n\n")
	p("%s alerts of one Alertmanager group sent to a new Sitrep (same routes) in %d notifications of up to %d "+
		"from %d concurrent senders, answered in %s. Sitrep declared %d incident(s) and holds %s alerts; "+
		"its alert summary last said %q. Web API calls the fake Slack answered from the first notification "+
		"until Sitrep had shown every alert and gone quiet (%s after the last answer):\n\n",
		thousands(st.alerts), st.bodies, c.stormPerBody, c.alertSenders, st.took.Round(time.Millisecond), st.incidents,
		thousands(st.inDB), st.summary, st.quietAfter.Round(100*time.Millisecond))
	p("| method | calls |\n| --- | ---: |\n")
	for _, m := range slices.Sorted(maps.Keys(st.calls)) {
		p("| `%s` | %d |\n", m, st.calls[m])
	}
	p("| all | %d |\n\n", st.totalCalls())
	p("| target | measured | result |\n| --- | ---: | --- |\n")
	p("| Slack calls for a storm of %s alerts ≤ %d | %d | %s |\n\n", thousands(st.alerts), targetStormCalls, st.totalCalls(),
		judge(st.totalCalls() <= targetStormCalls && st.errors == 0 && st.incidents == 1 && st.inDB == st.alerts))
	if st.errors > 0 {
		p("%d storm notifications failed; the first: %s\n\n", st.errors, strings.ReplaceAll(st.firstErr, "|", "\\|"))
	}
}
