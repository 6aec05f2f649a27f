package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/incident"
)

// Timing of the syncer's retries.
const (
	// passTimeout bounds one pass, so that a hung Slack call cannot stall an
	// incident, or shutdown, for longer.
	passTimeout = time.Minute
	// finalRetry is how often work that Slack refused outright is tried
	// again: such refusals (a missing scope, a restricted action) usually
	// need a person to fix the app, but the work must not be dropped.
	finalRetry = 10 * time.Minute
)

// syncer makes Slack show what the database holds. The database is the
// truth: each incident's Chat state records how far Slack has caught up
// (channel made, card posted and pinned, topic set, timeline events
// delivered to the channel and announced), so a pass can stop at any point,
// on any error or crash, and the next pass carries on from there.
type syncer struct {
	api  slackAPI
	svc  *incident.Service
	opts Options
	log  *slog.Logger

	// tellPending tells people whose changes wait on a pass that failed
	// that delivering them is pending (see watch).
	tellPending func(ctx context.Context, number int64, err error, to []slashCommand)

	mu       sync.Mutex
	me       string                  // Sitrep's user ID, once known
	locks    map[int64]chan struct{} // one pass at a time per incident
	due      map[int64]retry         // incidents waiting for another pass
	cardHash map[int64]uint64        // what each card shows, to skip no-op updates
	asks     uint64                  // soon calls so far
	watchers map[int64]map[string]slashCommand
	wake     chan struct{}
}

// maxPasses bounds the passes the run loop has under way at once: after an
// outage many incidents are behind, and Slack's rate limits are per
// workspace.
const maxPasses = 8

type retry struct {
	at       time.Time
	attempts int    // failed passes in a row, not counting rate limits
	asked    uint64 // which soon call asked for the pass, to keep one made during a pass
	// transient is set while the incident waits out passing trouble (a
	// server error, a timeout) rather than a rate limit or a refusal, so
	// that it can go again as soon as Slack is seen to answer.
	transient bool
}

func newSyncer(api slackAPI, svc *incident.Service, opts Options, log *slog.Logger) *syncer {
	if opts.Metrics == nil {
		opts.Metrics = noMetrics{}
	}
	return &syncer{
		api: api, svc: svc, opts: opts, log: log,
		locks:    map[int64]chan struct{}{},
		due:      map[int64]retry{},
		watchers: map[int64]map[string]slashCommand{},
		cardHash: map[int64]uint64{},
		wake:     make(chan struct{}, 1),
	}
}

// finalError marks a failure that retrying soon will not fix.
type finalError struct{ err error }

func (e *finalError) Error() string { return e.err.Error() }
func (e *finalError) Unwrap() error { return e.err }

// isFinal reports whether err is a failure that retrying soon will not fix.
func isFinal(err error) bool {
	var fe *finalError
	return errors.As(err, &fe) || !retryable(err)
}

// sync brings incident number's Slack state up to date, after waiting for
// a pass under way to end. Whatever fails is scheduled for another pass,
// soon for passing trouble and every finalRetry for refusals, whose cause
// is also recorded for people to see. The failure is returned.
func (s *syncer) sync(ctx context.Context, number int64) error {
	unlock, err := s.lock(ctx, number)
	if err != nil {
		return err
	}
	defer unlock()
	return s.syncLocked(ctx, number)
}

// trySync is sync without the waiting: if a pass for the incident is under
// way, it asks for one more after it and returns. A change made during a
// backlog (a burst of notes, Slack slow) so costs no goroutine waiting for
// the incident, and no pass that would find nothing left to do.
func (s *syncer) trySync(ctx context.Context, number int64) {
	unlock, ok := s.tryLock(number)
	if !ok {
		s.soon(number)
		return
	}
	defer unlock()
	s.syncLocked(ctx, number)
}

// watch records that sc's person made a change to incident number that is
// not in Slack yet. If the pass that should deliver it fails, they are told
// once what is pending (tellPending); once a pass delivers it, nobody is
// told anything. One person is told once however many changes they made.
func (s *syncer) watch(number int64, sc slashCommand) {
	if sc.UserID == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.watchers[number]
	if w == nil {
		w = map[string]slashCommand{}
		s.watchers[number] = w
	}
	w[sc.UserID] = sc // the latest response_url is the freshest
}

// takeWatchers returns and forgets incident number's watchers. s.mu is
// held.
func (s *syncer) takeWatchers(number int64) []slashCommand {
	var out []slashCommand
	for _, sc := range s.watchers[number] {
		out = append(out, sc)
	}
	delete(s.watchers, number)
	slices.SortFunc(out, func(a, b slashCommand) int { return strings.Compare(a.UserID, b.UserID) })
	return out
}

// syncLocked is sync with the incident's lock held.
func (s *syncer) syncLocked(ctx context.Context, number int64) error {
	s.mu.Lock()
	asked := s.due[number].asked
	s.mu.Unlock()
	err := s.pass(ctx, number)
	if err == nil {
		// Done, unless soon was called while the pass ran: what it asked
		// for may have been committed after the pass last looked, and the
		// run loop does it next.
		s.mu.Lock()
		r, again := s.due[number]
		if again && r.asked == asked {
			delete(s.due, number)
			again = false
		} else if again {
			s.due[number] = retry{at: r.at, asked: r.asked}
		}
		if !again {
			delete(s.watchers, number) // everything they changed is in Slack
		}
		woke := s.slackAnswers()
		s.mu.Unlock()
		if woke || again {
			s.poke()
		}
		return nil
	}
	if ctx.Err() != nil {
		// Out of time (a long backlog paced at Slack's rate) or shutting
		// down: the database knows what is left. The run loop carries on
		// at once, or the next start does; this is no failure of Slack's.
		s.mu.Lock()
		r := s.due[number]
		r.at = time.Now()
		s.due[number] = r
		s.mu.Unlock()
		s.poke()
		return err
	}
	s.mu.Lock()
	r := s.due[number]
	var rl *slack.RateLimitedError
	limited := errors.As(err, &rl)
	if !limited {
		// Slack says exactly how long to wait out a rate limit, so
		// waiting one out says nothing about how long the next trouble
		// will last.
		r.attempts++
	}
	wait := finalRetry
	if !isFinal(err) {
		wait = backoff(err, max(r.attempts, 1))
	}
	r.at = time.Now().Add(wait)
	r.transient = !isFinal(err) && !limited
	s.due[number] = r
	watchers := s.takeWatchers(number)
	s.mu.Unlock()
	if isFinal(err) {
		s.log.Error("slack refused incident work", "incident", number, "retry_in", wait, "err", err)
		s.recordProblem(ctx, number, err)
		err = &finalError{err}
	} else {
		s.log.Warn("slack sync failed; will retry", "incident", number, "attempt", r.attempts, "retry_in", wait.Round(time.Millisecond), "err", err)
	}
	if len(watchers) > 0 && s.tellPending != nil {
		s.tellPending(ctx, number, err, watchers)
	}
	s.poke()
	return err
}

// slackAnswers is told that a pass went through: Slack is answering again,
// so incidents backing off from passing trouble go now instead of waiting
// out their backoff. Those waiting on a rate limit keep to Retry-After, and
// refusals keep to finalRetry. It reports whether any incident was moved.
// s.mu is held.
func (s *syncer) slackAnswers() bool {
	now, moved := time.Now(), false
	for n, r := range s.due {
		if r.transient && r.at.After(now) {
			r.at, r.transient = now, false
			s.due[n] = r
			moved = true
		}
	}
	return moved
}

// poke makes the run loop look at what is due.
func (s *syncer) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// soon schedules a pass for incident number now, keeping its count of
// failed attempts.
func (s *syncer) soon(number int64) {
	s.mu.Lock()
	r := s.due[number]
	r.at = time.Now()
	s.asks++
	r.asked = s.asks
	s.due[number] = r
	s.mu.Unlock()
	s.poke()
}

// recordProblem keeps a failure on the incident so that it can be shown
// until a later pass succeeds.
func (s *syncer) recordProblem(ctx context.Context, number int64, err error) {
	inc, gerr := s.svc.Get(ctx, number)
	if gerr != nil {
		return
	}
	problem := describeSlackError(err) + needsAdmin(err)
	if problem == inc.Chat.Problem {
		return // shown already
	}
	inc.Chat.Problem = problem
	if serr := s.svc.SaveChat(ctx, inc.ID, inc.Chat); serr != nil {
		s.log.Error("record sync problem", "incident", number, "err", serr)
		return
	}
	s.showProblem(ctx, inc)
}

// showProblem shows a change of the incident's delivery problem: on the
// card, and, when there is a new one, to the commander, who must know that
// the channel does not show everything. Both are best effort: Slack may be
// refusing exactly these calls, and list and the Home tab show the problem
// from the database anyway.
func (s *syncer) showProblem(ctx context.Context, inc *incident.Incident) {
	c := inc.Chat
	if c.ChannelID == "" {
		return
	}
	if c.CardTS != "" {
		blocks := cardBlocks(inc, s.svc.Config(), s.opts.CommandName, strconv.FormatInt(inc.Version, 10))
		if _, _, _, err := s.api.UpdateMessageContext(ctx, c.ChannelID, c.CardTS, slack.MsgOptionText(cardText(inc), false), slack.MsgOptionBlocks(blocks...)); err != nil {
			s.log.Warn("could not show the delivery problem on the card", "incident", inc.Number, "err", err)
		} else if h, err := hashBlocks(cardBlocks(inc, s.svc.Config(), s.opts.CommandName, "")); err == nil {
			s.mu.Lock()
			s.cardHash[inc.Number] = h
			s.mu.Unlock()
		}
	}
	if c.Problem == "" || inc.Commander() == "" {
		return
	}
	text := fmt.Sprintf(":warning: Incident #%d is not all in Slack: %s. Everything is recorded; Sitrep tries again every %s and with every change.",
		inc.Number, c.Problem, finalRetry)
	if _, err := s.api.PostEphemeralContext(ctx, c.ChannelID, inc.Commander(), slack.MsgOptionText(text, false)); err != nil {
		s.log.Warn("could not tell the commander about the delivery problem", "incident", inc.Number, "err", err)
	}
}

// incidentLock returns incident number's lock: a channel holding one token
// while a pass runs.
func (s *syncer) incidentLock(number int64) chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.locks[number]
	if l == nil {
		l = make(chan struct{}, 1)
		s.locks[number] = l
	}
	return l
}

// tryLock takes incident number's lock if it is free.
func (s *syncer) tryLock(number int64) (unlock func(), ok bool) {
	l := s.incidentLock(number)
	select {
	case l <- struct{}{}:
		return func() { <-l }, true
	default:
		return nil, false
	}
}

// lock takes incident number's lock, giving up when ctx ends.
func (s *syncer) lock(ctx context.Context, number int64) (unlock func(), err error) {
	l := s.incidentLock(number)
	select {
	case l <- struct{}{}:
		return func() { <-l }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// maxBackoff caps the wait after passing trouble. People are reading the
// incident's channel, so it stays short: a failing pass costs one call, and
// the first pass to go through wakes the incidents still waiting
// (slackAnswers).
const maxBackoff = 30 * time.Second

// backoff is how long to wait before the next attempt: what Slack asks for
// when it rate limits, otherwise exponential from 1 s to maxBackoff with
// jitter so that many incidents do not retry in step.
func backoff(err error, attempts int) time.Duration {
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) && rl.RetryAfter > 0 {
		return rl.RetryAfter + time.Duration(rand.Int64N(int64(250*time.Millisecond)))
	}
	d := min(time.Second<<min(attempts-1, 8), maxBackoff)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// run retries failed passes until ctx ends. It starts with every incident
// the database says is behind, so a restart resumes unfinished work.
func (s *syncer) run(ctx context.Context) error {
	behind, err := s.svc.Unsynced(ctx)
	if ctx.Err() != nil {
		return nil // stopped before it started
	}
	if err != nil {
		return fmt.Errorf("find incidents to sync: %w", err)
	}
	s.mu.Lock()
	for _, n := range behind {
		s.due[n] = retry{at: time.Now()}
	}
	s.mu.Unlock()
	passes := make(chan struct{}, maxPasses)
	var running sync.WaitGroup
	defer running.Wait() // passes stop with ctx; their progress is saved
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		case <-timer.C:
		}
		now := time.Now()
		next := now.Add(time.Hour)
		var ready []int64
		s.mu.Lock()
		for n, r := range s.due {
			if !r.at.After(now) {
				ready = append(ready, n)
			} else if r.at.Before(next) {
				next = r.at
			}
		}
		s.mu.Unlock()
		slices.Sort(ready)
		for _, n := range ready {
			if ctx.Err() != nil {
				return nil
			}
			unlock, ok := s.tryLock(n)
			if !ok {
				continue // a pass is under way; it pokes when it ends
			}
			select {
			case passes <- struct{}{}:
			case <-ctx.Done():
				unlock()
				return nil
			}
			running.Add(1)
			go func() {
				defer running.Done()
				defer func() { <-passes }()
				defer unlock()
				pctx, cancel := context.WithTimeout(ctx, passTimeout)
				defer cancel()
				s.syncLocked(pctx, n) // failures are logged and rescheduled
			}()
		}
		if len(ready) > 0 {
			next = now.Add(time.Second) // a pass pokes when it reschedules; this is a backstop
		}
		timer.Reset(time.Until(next))
	}
}

// errStale ends a pass whose incident changed under it: pass goes round
// again to show the newer incident.
var errStale = errors.New("the incident changed during the pass")

// pass does one round of work for an incident, persisting progress after
// every step.
func (s *syncer) pass(ctx context.Context, number int64) error {
	// A change committed while a pass runs may miss the card or topic, so
	// look again until the incident holds still.
	rejoined := false
	for range 10 {
		inc, err := s.svc.Get(ctx, number)
		if err != nil {
			return err
		}
		err = s.passOnce(ctx, inc)
		if slackError(err) == "not_in_channel" && inc.Chat.ChannelID != "" && !rejoined {
			// Someone removed Sitrep from the incident channel. It joins a
			// public one again; a private one needs it invited back, which
			// the recorded problem says.
			if _, _, _, jerr := s.api.JoinConversationContext(ctx, inc.Chat.ChannelID); jerr != nil {
				s.log.Warn("could not rejoin the incident channel", "incident", number, "err", jerr)
				return err
			}
			s.log.Info("rejoined the incident channel", "incident", number)
			rejoined = true
			continue
		}
		if !errors.Is(err, errStale) {
			return err
		}
	}
	// Still changing: each change has asked for its own pass.
	return nil
}

func (s *syncer) passOnce(ctx context.Context, inc *incident.Incident) error {
	c := &inc.Chat
	save := func() error {
		if err := s.svc.SaveChat(ctx, inc.ID, *c); err != nil {
			return fmt.Errorf("save chat state: %w", err)
		}
		return nil
	}
	if c.ChannelID == "" {
		ch, err := s.createChannel(ctx, inc, save)
		if err != nil {
			return err
		}
		c.ChannelID, c.ChannelName, c.Posting = ch.ID, ch.Name, ""
		if err := save(); err != nil {
			return err
		}
	}
	if err := s.recoverPosting(ctx, inc, save); err != nil {
		return err
	}
	if err := s.syncCard(ctx, inc, save); err != nil {
		return err
	}

	if t := topic(inc); t != c.Topic {
		// Slack posts a message for every topic change, even to the same
		// topic, so this is guarded like a post.
		c.Posting = postingTopic
		if err := save(); err != nil {
			return err
		}
		if _, err := s.api.SetTopicOfConversationContext(ctx, c.ChannelID, t); err != nil {
			return fmt.Errorf("set topic: %w", err)
		}
		c.Topic, c.Posting = t, ""
		if err := save(); err != nil {
			return err
		}
	}
	// The checklist and follow-ups help, but a refusal of one of them
	// (say, a configured checklist Slack will not show) must not hold up
	// the incident itself: say so and carry on.
	var warnings []string
	for _, m := range []struct {
		what string
		sync func(context.Context, *incident.Incident, func() error) error
	}{{"the checklist", s.syncChecklist}, {"the follow-ups", s.syncFollowUps}} {
		if err := m.sync(ctx, inc, save); err != nil {
			if !isFinal(err) {
				return err
			}
			s.log.Error("message not posted", "incident", inc.Number, "what", m.what, "err", err)
			warnings = append(warnings, m.what+": "+describeSlackError(err)+needsAdmin(err))
		}
	}
	events, err := s.svc.Events(ctx, inc.ID, min(c.Cursor, c.AnnounceCursor))
	if err != nil {
		return err
	}
	// An event is committed with its change, so the events read may
	// include a change newer than the card and topic just shown. That only
	// matters for closing, which archives the channel: the card must say
	// "closed" first, so a pass that meets a close it has not shown starts
	// over. Everything else is delivered now.
	now, err := s.svc.Get(ctx, inc.Number)
	if err != nil {
		return err
	}
	stale := now.Version != inc.Version
	for _, ev := range events {
		if stale && ev.Kind == incident.KindClosed {
			return errStale
		}
		if ev.Seq > c.Cursor {
			if err := s.deliver(ctx, inc, ev, save); err != nil {
				return fmt.Errorf("deliver event %d (%s): %w", ev.Seq, ev.Kind, err)
			}
			c.Cursor = ev.Seq
			if err := save(); err != nil {
				return err
			}
		}
		if ev.Seq > c.AnnounceCursor {
			// Archiving comes after the channel message has its own
			// cursor, so a failed archive never posts that message again.
			if err := s.archiveOnClose(ctx, inc, ev); err != nil {
				if !isFinal(err) {
					return err
				}
				s.log.Error("channel not archived", "incident", inc.Number, "err", err)
				warnings = append(warnings, "archiving the channel: "+describeSlackError(err)+needsAdmin(err))
			}
			if err := s.announce(ctx, inc, ev, save); err != nil {
				if !isFinal(err) {
					return fmt.Errorf("announce event %d (%s): %w", ev.Seq, ev.Kind, err)
				}
				// A misconfigured announcement channel must not hold up
				// the incident itself: say so and carry on.
				s.log.Error("announcement not posted", "incident", inc.Number, "channel", s.opts.AnnounceChannel, "err", err)
				warnings = append(warnings, "the announcement channel: "+describeSlackError(err)+needsAdmin(err))
			}
			c.AnnounceCursor = ev.Seq
			if err := save(); err != nil {
				return err
			}
		}
	}
	if problem := strings.Join(warnings, "; "); problem != c.Problem {
		c.Problem = problem
		if err := save(); err != nil {
			return err
		}
		s.showProblem(ctx, inc)
	}
	if stale {
		return errStale // delivered what there was; show the newer incident
	}
	return nil
}

// createChannel creates the incident's channel, adding a suffix while Slack
// answers name_taken. Each name is saved before it is asked for, so that a
// pass after a crash adopts the channel an earlier pass created instead of
// creating a second one.
func (s *syncer) createChannel(ctx context.Context, inc *incident.Incident, save func() error) (*slack.Channel, error) {
	c := &inc.Chat
	base := channelName(s.opts.ChannelPrefix, inc.Number, plain(inc.Title))
	name := base
	for i := 2; ; i++ {
		c.Posting = postingChannel + name
		if err := save(); err != nil {
			return nil, err
		}
		ch, err := s.api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: name, IsPrivate: inc.Private})
		if err == nil {
			return ch, nil
		}
		if slackError(err) == "name_taken" {
			if ch, err := s.ownChannel(ctx, name); err != nil || ch != nil {
				return ch, err
			}
		}
		if slackError(err) != "name_taken" || i > 20 {
			return nil, fmt.Errorf("create channel %q: %w", name, err)
		}
		name = withSuffix(base, i)
	}
}

// ownChannel returns the unarchived channel called name if Sitrep created
// it, else nil. It is asked only when Slack says a name Sitrep meant to
// take is taken: the channel of the incident whose creation's answer was
// lost, or someone else's.
func (s *syncer) ownChannel(ctx context.Context, name string) (*slack.Channel, error) {
	me, err := s.botUser(ctx)
	if err != nil {
		return nil, err
	}
	params := &slack.GetConversationsParameters{Types: []string{"public_channel", "private_channel"}, ExcludeArchived: true, Limit: 1000}
	for {
		chans, next, err := s.api.GetConversationsContext(ctx, params)
		if err != nil {
			return nil, fmt.Errorf("look for channel %q: %w", name, err)
		}
		for i := range chans {
			if chans[i].Name == name && chans[i].Creator == me {
				return &chans[i], nil
			}
		}
		if next == "" {
			return nil, nil
		}
		params.Cursor = next
	}
}

// botUser returns Sitrep's own user ID, asking Slack once.
func (s *syncer) botUser(ctx context.Context) (string, error) {
	s.mu.Lock()
	me := s.me
	s.mu.Unlock()
	if me != "" {
		return me, nil
	}
	resp, err := s.api.AuthTestContext(ctx)
	if err != nil {
		return "", fmt.Errorf("auth.test: %w", err)
	}
	s.mu.Lock()
	s.me = resp.UserID
	s.mu.Unlock()
	return resp.UserID, nil
}

// What Chat.Posting names: a channel being created, or a message being
// posted, by its key.
const (
	postingChannel   = "channel:"
	postingCard      = "card"
	postingTopic     = "topic"
	postingChecklist = "checklist"
	postingFollowUps = "followups"
	postingEvent     = "event:"
	postingAnnounce  = "announce:"
	postMetadataType = "sitrep_post"
)

// post posts a message that must appear once. It saves key as Chat.Posting
// before asking Slack and tags the message with metadata naming the
// incident and key, so that if the answer is lost (a crash, a cut
// connection) the next pass finds the message instead of posting it again
// (recoverPosting). On success the caller records the result and clears
// Posting in one save.
func (s *syncer) post(ctx context.Context, inc *incident.Incident, channel, key string, save func() error, opts ...slack.MsgOption) (string, error) {
	inc.Chat.Posting = key
	if err := save(); err != nil {
		return "", err
	}
	md := slack.SlackMetadata{EventType: postMetadataType, EventPayload: map[string]any{"incident": inc.ID, "key": key}}
	opts = append(opts, slack.MsgOptionMetadata(md))
	_, ts, err := s.api.PostMessageContext(ctx, channel, opts...)
	if slackError(err) == "not_in_channel" {
		// Removed from the channel, or never asked in (the announcement
		// channel): join and post again. Slack refuses to let an app join
		// a private channel; that refusal is what people are shown.
		if _, _, _, jerr := s.api.JoinConversationContext(ctx, channel); jerr != nil {
			return "", fmt.Errorf("join %s to post there: %w", channel, jerr)
		}
		_, ts, err = s.api.PostMessageContext(ctx, channel, opts...)
	}
	if err != nil {
		return "", err
	}
	inc.Chat.Posting = ""
	return ts, nil
}

// recoverPosting finishes what a pass that stopped while posting left:
// if the message it was posting is in the channel, it is recorded as
// posted; either way Posting is cleared, and the pass goes on to post
// what is still missing.
func (s *syncer) recoverPosting(ctx context.Context, inc *incident.Incident, save func() error) error {
	c := &inc.Chat
	key := c.Posting
	if key == "" || strings.HasPrefix(key, postingChannel) {
		if key != "" {
			c.Posting = ""
			return save()
		}
		return nil
	}
	if key == postingTopic {
		ch, err := s.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: c.ChannelID})
		switch {
		case err != nil && !isFinal(err):
			return fmt.Errorf("read channel topic: %w", err)
		case err == nil:
			c.Topic = ch.Topic.Value // set again only if it differs
		}
		c.Posting = ""
		return save()
	}
	channel := c.ChannelID
	if strings.HasPrefix(key, postingAnnounce) {
		channel = s.opts.AnnounceChannel
	}
	ts, err := s.findPosted(ctx, channel, inc.ID, key)
	if err != nil && !isFinal(err) {
		return err
	}
	if err != nil {
		// The channel cannot be read (archived, left): posting there
		// will fail the same way and say so.
		s.log.Warn("could not look for a message whose posting was interrupted", "incident", inc.Number, "key", key, "err", err)
	}
	if ts != "" {
		s.log.Info("found a message whose posting was interrupted", "incident", inc.Number, "key", key)
		seq := func(prefix string) int64 { n, _ := strconv.ParseInt(strings.TrimPrefix(key, prefix), 10, 64); return n }
		switch {
		case key == postingCard:
			c.CardTS, c.CardVersion = ts, 0 // shown again at the current version
		case key == postingChecklist:
			c.ChecklistTS, c.ChecklistShown = ts, ""
		case key == postingFollowUps:
			c.FollowUpsTS, c.FollowUpsShown = ts, ""
		case strings.HasPrefix(key, postingEvent):
			c.Cursor = max(c.Cursor, seq(postingEvent))
		case strings.HasPrefix(key, postingAnnounce):
			c.AnnounceCursor = max(c.AnnounceCursor, seq(postingAnnounce))
		}
	}
	c.Posting = ""
	return save()
}

// findPosted returns the ts of the newest message in channel's latest
// hundred that Sitrep posted for incident under key, or "" if there is
// none.
func (s *syncer) findPosted(ctx context.Context, channel, incidentID, key string) (string, error) {
	resp, err := s.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: channel, Limit: 100, IncludeAllMetadata: true})
	if err != nil {
		return "", fmt.Errorf("read channel history: %w", err)
	}
	for _, m := range resp.Messages {
		md := m.Metadata
		if md.EventType == postMetadataType && md.EventPayload["incident"] == incidentID && md.EventPayload["key"] == key {
			return m.Timestamp, nil
		}
	}
	return "", nil
}

// syncCard posts the incident card, pins it, and keeps it current.
func (s *syncer) syncCard(ctx context.Context, inc *incident.Incident, save func() error) error {
	c := &inc.Chat
	blocks := cardBlocks(inc, s.svc.Config(), s.opts.CommandName, strconv.FormatInt(inc.Version, 10))
	opts := []slack.MsgOption{slack.MsgOptionText(cardText(inc), false), slack.MsgOptionBlocks(blocks...)}
	// The fingerprint leaves out the salt, which changes with every
	// version: a note must not cost a chat.update.
	h, err := hashBlocks(cardBlocks(inc, s.svc.Config(), s.opts.CommandName, ""))
	if err != nil {
		return &finalError{err}
	}
	switch {
	case c.CardTS == "":
		ts, err := s.post(ctx, inc, c.ChannelID, postingCard, save, opts...)
		if err != nil {
			return fmt.Errorf("post card: %w", err)
		}
		c.CardTS, c.CardVersion = ts, inc.Version
		if err := save(); err != nil {
			return err
		}
	case c.CardVersion < inc.Version && s.cardChanged(inc.Number, h):
		if _, _, _, err := s.api.UpdateMessageContext(ctx, c.ChannelID, c.CardTS, opts...); err != nil {
			return fmt.Errorf("update card: %w", err)
		}
		fallthrough
	case c.CardVersion < inc.Version:
		c.CardVersion = inc.Version
		if err := save(); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.cardHash[inc.Number] = h
	s.mu.Unlock()
	if !c.CardPinned {
		err := s.api.AddPinContext(ctx, c.ChannelID, slack.NewRefToMessage(c.ChannelID, c.CardTS))
		if err != nil && slackError(err) != "already_pinned" {
			return fmt.Errorf("pin card: %w", err)
		}
		c.CardPinned = true
		return save()
	}
	return nil
}

// cardChanged reports whether the card rendered now differs from what was
// last shown. After a restart nothing is known, so the card is updated once.
func (s *syncer) cardChanged(number int64, h uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.cardHash[number]
	return !ok || old != h
}

// resetCard shows the card afresh, with controls back at what the incident
// says: after a click that changed nothing, the client still shows the
// choice that was refused.
func (s *syncer) resetCard(ctx context.Context, number int64) error {
	unlock, err := s.lock(ctx, number)
	if err != nil {
		return err
	}
	defer unlock()
	inc, err := s.svc.Get(ctx, number)
	if err != nil || inc.Chat.CardTS == "" {
		return err
	}
	salt := fmt.Sprintf("%d.r%d", inc.Version, time.Now().UnixNano())
	blocks := cardBlocks(inc, s.svc.Config(), s.opts.CommandName, salt)
	_, _, _, err = s.api.UpdateMessageContext(ctx, inc.Chat.ChannelID, inc.Chat.CardTS, slack.MsgOptionText(cardText(inc), false), slack.MsgOptionBlocks(blocks...))
	if err != nil {
		return fmt.Errorf("reset card: %w", err)
	}
	return nil
}

// hashBlocks fingerprints what the blocks show, as Slack would receive them.
func hashBlocks(blocks []slack.Block) (uint64, error) {
	data, err := json.Marshal(blocks)
	if err != nil {
		return 0, fmt.Errorf("encode card: %w", err)
	}
	f := fnv.New64a()
	f.Write(data)
	return f.Sum64(), nil
}

// deliver does what one timeline event asks of the incident channel:
// invitations and a message everyone there sees.
func (s *syncer) deliver(ctx context.Context, inc *incident.Incident, ev incident.Event, save func() error) error {
	switch ev.Kind {
	case incident.KindDeclared:
		if err := s.invite(ctx, inc, append([]string{inc.DeclaredBy}, s.opts.Responders...)...); err != nil {
			return err
		}
	case incident.KindRole:
		if err := s.invite(ctx, inc, ev.Data["user"]); err != nil {
			return err
		}
	}
	text, blocks := channelMessage(inc, ev, s.svc.Config()), []slack.Block(nil)
	if ev.Kind == incident.KindPrompt {
		if promptAnswered(inc, ev) {
			return nil
		}
		text, blocks = promptMessage(inc, ev, s.svc.Config())
	}
	if text != "" {
		opts := []slack.MsgOption{slack.MsgOptionText(text, false)}
		if blocks != nil {
			opts = append(opts, slack.MsgOptionBlocks(blocks...))
		}
		_, err := s.post(ctx, inc, inc.Chat.ChannelID, postingEvent+strconv.FormatInt(ev.Seq, 10), save, opts...)
		if err != nil && !(ev.Kind == incident.KindClosed && slackError(err) == "is_archived") {
			return fmt.Errorf("post to incident channel: %w", err)
		}
		if err == nil && ev.Kind == incident.KindPrompt {
			s.opts.Metrics.Prompt(ev.Data["prompt"])
		}
	}
	return nil
}

// archiveOnClose archives the incident channel when the event closes the
// incident and archiving is configured.
func (s *syncer) archiveOnClose(ctx context.Context, inc *incident.Incident, ev incident.Event) error {
	if ev.Kind != incident.KindClosed || !s.opts.ArchiveOnClose {
		return nil
	}
	err := s.api.ArchiveConversationContext(ctx, inc.Chat.ChannelID)
	if err != nil && slackError(err) != "already_archived" {
		return fmt.Errorf("archive channel: %w", err)
	}
	return nil
}

// announces reports whether an incident's news goes to the announcement
// channel: never for private incidents, and drills only when configured.
func (s *syncer) announces(inc *incident.Incident) bool {
	return s.opts.AnnounceChannel != "" && !inc.Private && (!inc.Drill || s.opts.AnnounceDrills)
}

// announce posts an event's announcement, if it has one (post joins the
// announcement channel if Sitrep is not a member yet).
func (s *syncer) announce(ctx context.Context, inc *incident.Incident, ev incident.Event, save func() error) error {
	text := announcement(inc, ev, s.svc.Config())
	if text == "" || !s.announces(inc) {
		return nil
	}
	_, err := s.post(ctx, inc, s.opts.AnnounceChannel, postingAnnounce+strconv.FormatInt(ev.Seq, 10), save, slack.MsgOptionText(text, false))
	if err != nil {
		return fmt.Errorf("announce in %s: %w", s.opts.AnnounceChannel, err)
	}
	return nil
}

// invite adds people to the incident channel. People already there are
// fine; a person Slack cannot invite (deactivated, unknown) is logged and
// skipped rather than holding up the incident.
func (s *syncer) invite(ctx context.Context, inc *incident.Incident, users ...string) error {
	for _, u := range users {
		if u == "" {
			continue
		}
		_, err := s.api.InviteUsersToConversationContext(ctx, inc.Chat.ChannelID, u)
		switch code := slackError(err); {
		case err == nil, code == "already_in_channel", code == "cant_invite_self":
		case retryable(err):
			return fmt.Errorf("invite %s: %w", u, err)
		default:
			s.log.Warn("could not invite to incident channel", "incident", inc.Number, "user", u, "err", err)
		}
	}
	return nil
}

// promptAnswered reports whether what a prompt asks for was done between
// recording the prompt and delivering it, so that nobody is asked for an
// update they have just posted.
func promptAnswered(inc *incident.Incident, ev incident.Event) bool {
	if incident.PromptKind(ev.Data["prompt"]) == incident.PromptPostmortem {
		// Reopened or closed meanwhile: no postmortem is owed now.
		return inc.Status != incident.Resolved || !inc.PostmortemAt.IsZero()
	}
	return inc.LastUpdateAt.After(ev.At) || !inc.Status.Open()
}

// syncChecklist posts the triage checklist once the card is up, and keeps
// it showing the answers.
func (s *syncer) syncChecklist(ctx context.Context, inc *incident.Incident, save func() error) error {
	c := &inc.Chat
	if len(inc.Checklist) == 0 {
		return nil
	}
	return s.syncMessage(ctx, inc, postingChecklist, &c.ChecklistTS, &c.ChecklistShown, checklistText(inc), checklistBlocks(inc), save)
}

// syncFollowUps posts the follow-ups message with the first follow-up, and
// keeps it current.
func (s *syncer) syncFollowUps(ctx context.Context, inc *incident.Incident, save func() error) error {
	c := &inc.Chat
	if len(inc.FollowUps) == 0 {
		return nil
	}
	return s.syncMessage(ctx, inc, postingFollowUps, &c.FollowUpsTS, &c.FollowUpsShown, followUpsText(inc), followUpsBlocks(inc), save)
}

// syncMessage posts a message that is kept up to date in place, or updates
// it when what it shows has changed. ts and shown are the message and the
// fingerprint of what it shows, saved after each step.
func (s *syncer) syncMessage(ctx context.Context, inc *incident.Incident, key string, ts, shown *string, text string, blocks []slack.Block, save func() error) error {
	channel := inc.Chat.ChannelID
	h, err := hashBlocks(blocks)
	if err != nil {
		return &finalError{err}
	}
	fp := strconv.FormatUint(h, 16)
	opts := []slack.MsgOption{slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...)}
	switch {
	case *ts == "":
		posted, err := s.post(ctx, inc, channel, key, save, opts...)
		if err != nil {
			return fmt.Errorf("post %q: %w", text, err)
		}
		*ts = posted
	case *shown != fp:
		if _, _, _, err := s.api.UpdateMessageContext(ctx, channel, *ts, opts...); err != nil {
			return fmt.Errorf("update %q: %w", text, err)
		}
	default:
		return nil
	}
	*shown = fp
	return save()
}

// errNoChecklist answers a request for the checklist of an incident that
// has none.
var errNoChecklist = errors.New("no checklist")

// repostChecklist posts the checklist again at the bottom of the channel,
// where people are reading, and turns the old one into a pointer to it so
// that answers are given in one place.
func (s *syncer) repostChecklist(ctx context.Context, number int64) error {
	unlock, err := s.lock(ctx, number)
	if err != nil {
		return err
	}
	defer unlock()
	inc, err := s.svc.Get(ctx, number)
	if err != nil {
		return err
	}
	if len(inc.Checklist) == 0 {
		return errNoChecklist
	}
	c := &inc.Chat
	if c.ChannelID == "" || c.ChecklistTS == "" {
		// Not posted yet: a pass posts it at the bottom anyway.
		return s.pass(ctx, number)
	}
	old := c.ChecklistTS
	c.ChecklistTS, c.ChecklistShown = "", ""
	if err := s.syncMessage(ctx, inc, postingChecklist, &c.ChecklistTS, &c.ChecklistShown, checklistText(inc), checklistBlocks(inc), func() error {
		return s.svc.SaveChat(ctx, inc.ID, *c)
	}); err != nil {
		return err
	}
	if _, _, _, err := s.api.UpdateMessageContext(ctx, c.ChannelID, old, slack.MsgOptionText("The triage checklist moved to the bottom of the channel.", false), slack.MsgOptionBlocks(movedChecklistBlocks()...)); err != nil {
		s.log.Warn("could not mark the old checklist as moved", "incident", number, "err", err)
	}
	return nil
}
