package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/notify"
)

// integrationName names Slack's deliveries in the store: the channel
// each incident has, and how far the channel shows it.
const integrationName = "slack"

// slackDelivery is Slack as an integration of the delivery engine
// (notify): it makes Slack show what the database holds. The incident's
// Slack delivery records how far Slack has caught up (channel made, card
// posted and pinned, topic set, timeline events delivered to the channel
// and announced), so a pass can stop at any point, on any error or crash,
// and the next pass carries on from there. Scheduling, retries and problem
// recording are the engine's.
type slackDelivery struct {
	api     slackAPI
	svc     *incident.Service
	opts    Options
	log     *slog.Logger
	runner  *notify.Runner // for work outside passes that takes an incident's lock
	pace    *pacer         // api, paced: asked whether put-off work has a turn now
	members *members       // who is in the incident channels

	// tellPending tells people whose changes wait on a pass that failed
	// that delivering them is pending (see watch).
	tellPending func(ctx context.Context, number int64, err error, to []slashCommand)

	mu       sync.Mutex
	me       string           // Sitrep's user ID, once known
	cardHash map[int64]uint64 // what each card shows, to skip no-op updates
	watchers map[int64]map[string]slashCommand
}

func newSlackDelivery(api slackAPI, svc *incident.Service, opts Options, log *slog.Logger) *slackDelivery {
	return &slackDelivery{
		api: api, svc: svc, opts: opts, log: log,
		watchers: map[int64]map[string]slashCommand{},
		cardHash: map[int64]uint64{},
	}
}

// chatState is Slack's own record of what it shows of an incident, kept as
// the State of its delivery. The JSON names are stored: change them only
// with a migration.
type chatState struct {
	ChannelID   string `json:"channel_id"`
	ChannelName string `json:"channel_name"`
	CardTS      string `json:"card_ts"` // the pinned incident card
	CardPinned  bool   `json:"card_pinned"`
	CardVersion int64  `json:"card_version"` // the Incident.Version the card shows
	Topic       string `json:"topic"`        // the channel topic last set
	// Cursor is the Seq of the last timeline event whose invitations and
	// incident-channel message were delivered; AnnounceCursor the same for
	// announcements. They are separate so that a failed announcement is
	// retried without posting the channel message again.
	Cursor         int64 `json:"cursor"`
	AnnounceCursor int64 `json:"announce_cursor"`
	// The checklist and follow-ups messages, each updated in place, and a
	// fingerprint of what each shows so that an unchanged one is not sent
	// again.
	ChecklistTS    string `json:"checklist_ts"`
	ChecklistShown string `json:"checklist_shown"`
	FollowUpsTS    string `json:"followups_ts"`
	FollowUpsShown string `json:"followups_shown"`
	// ChecklistMore and FollowUpsMore are the second and later messages
	// of a checklist or follow-ups too long for one (see paginate), in
	// order; the fields above are the first.
	ChecklistMore []chatPage `json:"checklist_more,omitempty"`
	FollowUpsMore []chatPage `json:"followups_more,omitempty"`
	// AlertsTS is the alert summary of an incident alerts declared,
	// updated in place as its alerts fire and resolve (bot/alerts.go).
	AlertsTS    string `json:"alerts_ts,omitempty"`
	AlertsShown string `json:"alerts_shown,omitempty"`
	// Posting names the message being posted ("card", "event:12", ...),
	// saved before Slack is asked and cleared with the result. Found set
	// at the start of a pass, it means an earlier pass may have posted the
	// message without recording it: the pass looks for it before posting
	// again.
	Posting string `json:"posting"`
	// Postmortem is the postmortem upload Slack has not yet shown in the
	// channel (see pendingUpload), nil when there is none.
	Postmortem *pendingUpload `json:"postmortem,omitempty"`
	// Warnings are the refusals that did not hold the incident up, by
	// the work refused (see warn); Problem shows them.
	Warnings map[string]string `json:"warnings,omitempty"`
	// Scan is where a search for the channel's name got to (findChannel).
	Scan channelScan `json:"scan,omitzero"`
	// Problem is the delivery's Problem: what Slack refuses, for people.
	Problem string `json:"-"`
	// MovedFrom names the channel an incident had before Slack lost it
	// (see moveOrLeave), until the new channel says so.
	MovedFrom string `json:"moved_from,omitempty"`
	// ChannelGone says how a closed incident's channel went from Slack;
	// nothing more is posted there.
	ChannelGone string `json:"channel_gone,omitempty"`
}

// chatPage is one message of several that show one thing.
type chatPage struct {
	TS    string `json:"ts"`
	Shown string `json:"shown"` // fingerprint of what it shows
}

// load reads the chat state from Slack's delivery of an incident.
func (c *chatState) load(d incident.Delivery) error {
	*c = chatState{}
	if len(d.State) > 0 {
		if err := json.Unmarshal(d.State, c); err != nil {
			return fmt.Errorf("read slack delivery state: %w", err)
		}
	}
	c.Problem = d.Problem
	return nil
}

// store writes the chat state into the delivery, with the channel as its
// reference (ByRef finds the incident of a channel).
func (c chatState) store(d *incident.Delivery) error {
	state, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode slack delivery state: %w", err)
	}
	d.State, d.Problem, d.Refs = state, c.Problem, nil
	if c.ChannelID != "" {
		d.Refs = []string{c.ChannelID}
	}
	return nil
}

// shown is an incident with what Slack shows of it: what renderers and the
// handlers that link to the channel need.
type shown struct {
	*incident.Incident
	Chat chatState
	// Postmortem is where the postmortem was last published (the
	// timeline's record), read for the card only; see lastPostmortem.
	Postmortem string
}

// showing returns inc with the chat state its Slack delivery d holds.
func showing(inc *incident.Incident, d incident.Delivery) (*shown, error) {
	sh := &shown{Incident: inc}
	return sh, sh.Chat.load(d)
}

// saving returns a save that writes sh's chat state into d and then
// stores d with store.
func (sh *shown) saving(d *incident.Delivery, store func() error) func() error {
	return func() error {
		if err := sh.Chat.store(d); err != nil {
			return err
		}
		return store()
	}
}

// show reads what Slack shows of inc.
func (b *Bot) show(ctx context.Context, inc *incident.Incident) (*shown, error) {
	d, err := b.svc.Delivery(ctx, integrationName, inc.ID)
	if err != nil {
		return nil, err
	}
	return showing(inc, d)
}

// showAll is show for many incidents, in one read.
func (b *Bot) showAll(ctx context.Context, incs []*incident.Incident) ([]*shown, error) {
	ds, err := b.svc.Deliveries(ctx, integrationName, incs)
	if err != nil {
		return nil, err
	}
	out := make([]*shown, len(incs))
	for i, inc := range incs {
		if out[i], err = showing(inc, ds[inc.ID]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// load reads incident number with its Slack delivery, and returns a save
// that stores the chat state, for work outside a pass (with the
// incident's lock held).
func (s *slackDelivery) load(ctx context.Context, number int64) (*shown, func() error, error) {
	inc, err := s.svc.Get(ctx, number)
	if err != nil {
		return nil, nil, err
	}
	d, err := s.svc.Delivery(ctx, integrationName, inc.ID)
	if err != nil {
		return nil, nil, err
	}
	sh, err := showing(inc, d)
	if err != nil {
		return nil, nil, err
	}
	return sh, sh.saving(&d, func() error { return s.svc.SaveDelivery(ctx, d) }), nil
}

// Name implements notify.Integration.
func (s *slackDelivery) Name() string { return integrationName }

// Deliver implements notify.Integration: one pass of Slack work for an
// incident, rejoining the channel once if Sitrep was removed from it.
func (s *slackDelivery) Deliver(ctx context.Context, inc *incident.Incident, events []incident.Event, d *incident.Delivery, save func() error) error {
	sh, err := showing(inc, *d)
	if err != nil {
		return &finalError{err}
	}
	saveChat := sh.saving(d, save)
	// A channel made in this very pass is not judged lost: Slack may not
	// answer for a new channel everywhere at once.
	rejoined, checked := false, sh.Chat.ChannelID == ""
	for {
		err := s.passOnce(ctx, sh, events, saveChat)
		if code := slackError(err); (code == "channel_not_found" || code == "is_archived") && sh.Chat.ChannelID != "" && !checked {
			// Slack no longer has the incident's channel, or it was
			// archived under an incident still going on. Retrying would
			// meet the same answer forever: see what became of it.
			checked = true
			how, cerr := s.channelGone(ctx, sh.Chat.ChannelID)
			if cerr != nil {
				s.log.Warn("could not look at the incident channel", "incident", inc.Number, "err", cerr)
				return err
			}
			if how == "" {
				return err
			}
			// What to do depends on whether the incident is closed, and
			// it may have been closed since this pass read it (someone
			// deletes the channel and closes the incident at once): a
			// pass that read it earlier would make a new channel for a
			// closed incident. Decide on the incident as it is now.
			if now, gerr := s.svc.Get(ctx, inc.Number); gerr != nil {
				return gerr
			} else if now.Version != inc.Version {
				return notify.ErrStale
			}
			if merr := s.moveOrLeave(sh, how, saveChat); merr != nil {
				return merr
			}
			continue
		}
		if slackError(err) == "not_in_channel" && sh.Chat.ChannelID != "" && !rejoined {
			// Someone removed Sitrep from the incident channel. It joins a
			// public one again; a private one needs it invited back, which
			// the recorded problem says.
			if _, _, _, jerr := s.api.JoinConversationContext(ctx, sh.Chat.ChannelID); jerr != nil {
				s.log.Warn("could not rejoin the incident channel", "incident", inc.Number, "err", jerr)
				return err
			}
			s.log.Info("rejoined the incident channel", "incident", inc.Number)
			rejoined = true
			continue
		}
		if errors.Is(err, errStale) {
			return notify.ErrStale
		}
		return err
	}
}

// errStale ends a pass that met a change it has not shown yet and must
// (see passOnce).
var errStale = errors.New("the incident changed during the pass")

// Classify implements notify.Integration.
func (s *slackDelivery) Classify(err error) notify.Failure {
	var rl *slack.RateLimitedError
	switch {
	case errors.As(err, &rl) && rl.RetryAfter > 0:
		return notify.Failure{Wait: rl.RetryAfter}
	case isFinal(err):
		return notify.Failure{Final: true, Problem: describeSlackError(err) + needsAdmin(err)}
	}
	return notify.Failure{}
}

// ShowProblem implements notify.ProblemShower.
func (s *slackDelivery) ShowProblem(ctx context.Context, inc *incident.Incident, d incident.Delivery) {
	if sh, err := showing(inc, d); err == nil {
		s.showProblem(ctx, sh)
	}
}

// watch records that sc's person made a change to incident number that is
// not in Slack yet. If the pass that should deliver it fails, they are told
// once what is pending (tellPending); once a pass delivers it, nobody is
// told anything. One person is told once however many changes they made.
func (s *slackDelivery) watch(number int64, sc slashCommand) {
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

// Delivered implements notify.Watcher: everything the watchers changed is
// in Slack.
func (s *slackDelivery) Delivered(number int64) {
	s.mu.Lock()
	delete(s.watchers, number)
	s.mu.Unlock()
}

// Failed implements notify.Watcher: the people waiting on the incident are
// told, once, what is pending.
func (s *slackDelivery) Failed(ctx context.Context, number int64, err error, f notify.Failure) {
	s.mu.Lock()
	var watchers []slashCommand
	for _, sc := range s.watchers[number] {
		watchers = append(watchers, sc)
	}
	delete(s.watchers, number)
	s.mu.Unlock()
	if len(watchers) == 0 || s.tellPending == nil {
		return
	}
	slices.SortFunc(watchers, func(a, b slashCommand) int { return strings.Compare(a.UserID, b.UserID) })
	if f.Final {
		err = &finalError{err}
	}
	s.tellPending(ctx, number, err, watchers)
}

// showProblem shows a change of the incident's delivery problem: on the
// card, and, when there is a new one, to the commander, who must know that
// the channel does not show everything. Both are best effort: Slack may be
// refusing exactly these calls, and list and the Home tab show the problem
// from the database anyway.
func (s *slackDelivery) showProblem(ctx context.Context, inc *shown) {
	c := inc.Chat
	if c.ChannelID == "" || c.ChannelGone != "" {
		return // nowhere in Slack to show it: list and the Home tab do
	}
	if c.CardTS != "" {
		blocks := cardBlocks(inc, s.svc.Config(), s.opts.CommandName, strconv.FormatInt(inc.Version, 10))
		if _, _, _, err := s.api.UpdateMessageContext(ctx, c.ChannelID, c.CardTS, slack.MsgOptionText(cardText(inc.Incident), false), slack.MsgOptionBlocks(blocks...)); err != nil {
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
		inc.Number, c.Problem, notify.FinalRetry)
	if _, err := s.api.PostEphemeralContext(ctx, c.ChannelID, inc.Commander(), slack.MsgOptionText(text, false)); err != nil {
		s.log.Warn("could not tell the commander about the delivery problem", "incident", inc.Number, "err", err)
	}
}
