// Package bot is Sitrep's Slack adapter, and the only package that imports
// slack-go: it verifies and parses what Slack sends, calls the incident
// service, and makes Slack show what the service recorded.
package bot

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/internal/clock"
	"github.com/sitrep-dev/sitrep/notify"
	"github.com/sitrep-dev/sitrep/thirdparty"
)

// Options are the bot's settings.
type Options struct {
	SigningSecret string
	// AppToken is Socket Mode's app-level token. With no SigningSecret it
	// keys the seal on forms (formseal.go); Sitrep does not connect with it.
	AppToken        string
	CommandName     string   // the slash command, "/incident"
	ChannelPrefix   string   // incident channels are "<prefix>-<number>-<slug>"
	AnnounceChannel string   // channel ID for announcements; "" for none
	AnnounceDrills  bool     // announce drills too (marked as drills)
	Responders      []string // user IDs invited to every incident channel
	TimelineEmoji   string   // reacting with it adds a message to the timeline; default "pushpin"
	ArchiveOnClose  bool     // archive an incident's channel when it is closed
	TemplatesDir    string   // overrides for the embedded templates; "" for none
	TimeZone        *time.Location
	// Metrics is told what the bot measures; nil measures nothing. Give
	// the Slack client's HTTP client SlackTransport with the same Metrics
	// to measure the Web API calls.
	Metrics Metrics
	// DeliveryClock is the time Slack work is retried and paced by; nil
	// means the real one.
	DeliveryClock clock.Clock
	// Poll is how often changes made outside this process are looked
	// for; 0 means incident.DefaultPoll.
	Poll time.Duration
	// TriageChannel is the channel ID where groups of alerts waiting in
	// triage are shown, with Declare and Dismiss; "" shows them nowhere.
	TriageChannel string
	// AlertRules are the limits on what alerts do; the prompter applies
	// them to groups whose wait for their route's noise controls ends.
	AlertRules incident.AlertRules
	// IssueTracker names the tracker the follow-ups' Create issue button
	// makes issues in; "" shows no button.
	IssueTracker string
	// Integrations are delivered by the same engine as Slack (a tracker's
	// issues): they learn of every change and resume after a restart.
	Integrations []notify.Integration
	// ThirdParties returns the third parties' latest statuses, without
	// waiting on any vendor; nil when no status page is polled.
	ThirdParties func() []thirdparty.Status
	// CustomerSuccessChannel is the channel ID where customer-visible
	// incidents at or above CustomerSuccessAt get a brief (customers.go);
	// "" for none. CustomerSuccessAt "" means every severity.
	CustomerSuccessChannel string
	CustomerSuccessAt      string
	// Ping reports whether the database answers; nil when it cannot be
	// asked. A command that failed on Sitrep's side is answered with the
	// database's outage, when that is the cause, rather than with a
	// failure nobody can act on.
	Ping func(ctx context.Context) error
}

// Bot serves Slack's requests and keeps Slack in step with the database.
type Bot struct {
	api    slackAPI
	svc    *incident.Service
	opts   Options
	log    *slog.Logger
	clock  clock.Clock
	verify verifier
	// deliv is Slack as an integration of the delivery engine, runner.
	forms  formSeal // seals what forms carry in private_metadata
	deliv  *slackDelivery
	runner *notify.Runner
	prompt *prompter
	pager  *pager
	// declares limits how often one person may declare.
	declares *declareLimit
	client   *http.Client // for response_url
	names    *nameCache
	metrics  Metrics
	channels sync.Map // incident channel ID → channelIncident (incidentIn)
	help     string   // the usage text, made once from the command table
	// publishing holds a *sync.Mutex per incident number: one postmortem
	// publication at a time, so that a second sees the first's upload
	// recorded rather than waiting for its share (publishPostmortem).
	publishing sync.Map
	triage     *alertTriage // nil without a triage channel

	mu             sync.Mutex
	stopBackground context.CancelFunc // set by Run; Drain stops prompts and polling with it
	closing        bool               // set by Wait; later work runs before its request is answered
	jobs           sync.WaitGroup     // work started after a request was acknowledged
	// stopJobs cancels the work after acknowledgements when shutting down
	// takes too long (Wait); what it leaves is in the database.
	jobsDone context.Context
	stopJobs context.CancelFunc
}

// New returns a Bot that reaches Slack through api. clk is the time the
// bot checks requests and sends prompts by; give the Service clk.Now too.
func New(api slackAPI, svc *incident.Service, opts Options, log *slog.Logger, clk clock.Clock) *Bot {
	if opts.CommandName == "" {
		opts.CommandName = "/incident"
	}
	if opts.TimelineEmoji == "" {
		opts.TimelineEmoji = "pushpin"
	}
	if opts.TimeZone == nil {
		opts.TimeZone = time.UTC
	}
	if opts.ChannelPrefix == "" {
		opts.ChannelPrefix = "inc"
	}
	if opts.Metrics == nil {
		opts.Metrics = noMetrics{}
	}
	if opts.Poll <= 0 {
		opts.Poll = incident.DefaultPoll
	}
	// Delivery waits out Slack's rate limits and outages in real time
	// unless the options say otherwise; the bot's clock (which tests stop
	// and move by hand) decides when prompts fall due.
	deliveryClock := opts.DeliveryClock
	if deliveryClock == nil {
		deliveryClock = clock.Real{}
	}
	paced := newPacer(api, deliveryClock)
	api = paced
	deliv := newSlackDelivery(api, svc, opts, log)
	deliv.pace = paced
	deliv.members = newMembers(api, clk)
	pages := &pageDelivery{api: api, svc: svc, log: log.With("integration", pagesIntegration), command: opts.CommandName, metrics: opts.Metrics}
	integrations := append([]notify.Integration{deliv, pages}, opts.Integrations...)
	if opts.CustomerSuccessChannel != "" {
		integrations = append(integrations, &csDelivery{api: api, svc: svc, slack: deliv, channel: opts.CustomerSuccessChannel, at: opts.CustomerSuccessAt, command: opts.CommandName})
	}
	runner := notify.New(svc, deliveryClock, log, opts.Metrics, integrations...)
	deliv.runner = runner
	jobsDone, stopJobs := context.WithCancel(context.Background())
	b := &Bot{
		api:      api,
		svc:      svc,
		opts:     opts,
		log:      log,
		clock:    clk,
		verify:   verifier{secret: []byte(opts.SigningSecret), now: clk.Now},
		forms:    newFormSeal(opts.SigningSecret, opts.AppToken),
		deliv:    deliv,
		runner:   runner,
		prompt:   newPrompter(svc, clk, opts.AlertRules, log),
		pager:    newPager(svc, clk, log),
		declares: newDeclareLimit(clk.Now),
		client:   &http.Client{Timeout: 10 * time.Second, Transport: SlackTransport(nil, opts.Metrics, log)},
		names:    newNameCache(api, log),
		metrics:  opts.Metrics,
		jobsDone: jobsDone,
		stopJobs: stopJobs,
		help:     helpText(opts.CommandName),
	}
	deliv.tellPending = b.tellPending
	if opts.TriageChannel != "" {
		b.triage = newAlertTriage(api, svc, opts.TriageChannel, opts.CommandName, log)
	}
	return b
}

// Handler routes Slack's requests.
func (b *Bot) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /slack/commands", b.observed(kindCommand, b.handleCommand))
	mux.HandleFunc("POST /slack/interactions", b.observed(kindInteraction, b.handleInteraction))
	mux.HandleFunc("POST /slack/events", b.observed(kindEvent, b.handleEvents))
	return mux
}

// Run does the bot's background work until ctx is done: it retries Slack
// work that failed or was interrupted, including work left over from before
// a restart, and sends prompts as they fall due.
func (b *Bot) Run(ctx context.Context) error {
	// Prompts and polling stop first when draining (Drain): they would
	// only make new work.
	bg, cancel := context.WithCancel(ctx)
	defer cancel()
	// Changes after the mark reach the runner and the prompter through
	// the feed; those before, through what they read as they start.
	if err := b.svc.MarkChanges(ctx); err != nil {
		return err
	}
	b.mu.Lock()
	b.stopBackground = cancel
	b.mu.Unlock()
	promptDone := make(chan error, 1)
	go func() { promptDone <- b.prompt.run(bg) }()
	pageDone := make(chan error, 1)
	go func() { pageDone <- b.pager.run(bg) }()
	// Changes made elsewhere (another process on the same database, the
	// command line) reach the runner and the prompter through the
	// service's change feed once it has polled for them.
	watchDone := make(chan error, 1)
	go func() { watchDone <- b.svc.Watch(bg, b.opts.Poll) }()
	go b.learnMembers(bg)
	triageDone := make(chan error, 1)
	if b.triage != nil {
		go func() { triageDone <- b.triage.run(bg, b.opts.Poll) }()
	} else {
		triageDone <- nil
	}
	err := b.runner.Run(ctx)
	cancel()
	if terr := <-triageDone; err == nil {
		err = terr
	}
	if perr := <-promptDone; err == nil {
		err = perr
	}
	if perr := <-pageDone; err == nil {
		err = perr
	}
	if werr := <-watchDone; err == nil {
		err = werr
	}
	return err
}

// Drain makes Run return once the Slack work due now is done: prompts and
// polling stop, and retries scheduled for later are left to the next
// start. Call it when shutting down, after the server has stopped taking
// requests, so that what was acknowledged reaches Slack.
func (b *Bot) Drain() {
	b.mu.Lock()
	stop := b.stopBackground
	b.mu.Unlock()
	if stop != nil {
		stop()
	}
	b.runner.Drain()
}

// Wait blocks until the work started after acknowledging requests is done,
// or, after grace, cancels what is left of it and waits for that to stop:
// a long backlog of posts must not hold up a restart, and the database
// knows what is left. Call it once the HTTP server has stopped taking
// requests; a request still being handled after that does its work before
// it is answered.
func (b *Bot) Wait(grace time.Duration) {
	b.mu.Lock()
	b.closing = true
	b.mu.Unlock()
	done := make(chan struct{})
	go func() { b.jobs.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		b.log.Warn("shutting down: cancelling Slack work still under way; it resumes at the next start", "after", grace)
		b.stopJobs()
		<-done
	}
}

// jobTimeout bounds the work done for one request after answering it.
const jobTimeout = 2 * time.Minute

// goAfterAck runs fn after the request that asked for it has been answered,
// detached from that request's cancellation but bounded in time.
func (b *Bot) goAfterAck(ctx context.Context, fn func(ctx context.Context)) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), jobTimeout)
	stop := context.AfterFunc(b.jobsDone, cancel) // Wait's grace is over
	run := func() {
		defer cancel()
		defer stop()
		fn(ctx)
	}
	b.mu.Lock()
	if b.closing {
		b.mu.Unlock()
		run()
		return
	}
	b.jobs.Add(1)
	b.mu.Unlock()
	go func() {
		defer b.jobs.Done()
		run()
	}()
}
