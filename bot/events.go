package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/incident"
)

// eventEnvelope is the outer shape of what the Events API sends.
type eventEnvelope struct {
	Type      string          `json:"type"`
	Challenge string          `json:"challenge"`
	EventID   string          `json:"event_id"`
	Event     json.RawMessage `json:"event"`
}

// innerEvent holds the fields Sitrep reads of the events it subscribes to.
type innerEvent struct {
	Type     string `json:"type"`
	User     string `json:"user"`
	Reaction string `json:"reaction"`
	Item     struct {
		Type    string `json:"type"`
		Channel string `json:"channel"`
		TS      string `json:"ts"`
	} `json:"item"`
	Tab     string `json:"tab"`
	Channel string `json:"channel"` // member_joined_channel, member_left_channel
	// file_shared
	FileID    string `json:"file_id"`
	ChannelID string `json:"channel_id"`
}

// handleEvents serves POST /slack/events.
func (b *Bot) handleEvents(w http.ResponseWriter, r *http.Request) {
	body, ok := b.readSigned(w, r)
	if !ok {
		return
	}
	resp, err := b.event(r.Context(), body)
	answer(w, resp, err)
}

// event handles one Events API payload, whatever transport brought it, and
// returns what to answer with (nil for an empty 200). The work is done after
// the answer; Slack's retries of an event already handled are ignored, also
// across restarts.
func (b *Bot) event(ctx context.Context, body []byte) (any, error) {
	var env eventEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		requestEnded(ctx, outcomeMalformed, "unreadable event")
		return nil, fmt.Errorf("malformed event: %w", err)
	}
	switch env.Type {
	case "url_verification":
		requestIs(ctx, env.Type, "")
		return map[string]string{"challenge": env.Challenge}, nil
	case "event_callback":
	default:
		requestIs(ctx, env.Type, "")
		requestEnded(ctx, outcomeIgnored, "unknown Events API payload")
		return nil, nil
	}
	var ev innerEvent
	if err := json.Unmarshal(env.Event, &ev); err != nil {
		requestEnded(ctx, outcomeMalformed, "unreadable event")
		return nil, fmt.Errorf("malformed event: %w", err)
	}
	requestIs(ctx, ev.Type, ev.User)
	log := b.logFor(ctx).With("event", ev.Type, "event_id", env.EventID, "user", ev.User)
	var work func(context.Context)
	switch {
	case ev.Type == "reaction_added" && ev.Reaction == b.opts.TimelineEmoji && ev.Item.Type == "message":
		work = func(ctx context.Context) { b.reactionAdded(ctx, log, ev) }
	case ev.Type == "app_home_opened" && ev.Tab == "home":
		work = func(ctx context.Context) { b.publishHome(ctx, log, ev.User) }
	case ev.Type == "member_joined_channel" || ev.Type == "member_left_channel":
		// Who may see a private incident: kept at once, with nothing to
		// record, and applying one twice changes nothing.
		if ev.Type == "member_joined_channel" {
			b.deliv.members.joined(ev.Channel, ev.User)
		} else {
			b.deliv.members.left(ev.Channel, ev.User)
		}
		requestEnded(ctx, outcomeOK, "")
		return nil, nil
	case ev.Type == "file_shared" && ev.FileID != "" && ev.ChannelID != "":
		work = func(ctx context.Context) { b.fileShared(ctx, log, ev.FileID, ev.ChannelID) }
	default:
		requestEnded(ctx, outcomeIgnored, "")
		return nil, nil // other reactions, other tabs: nothing to do, nothing to record
	}
	if env.EventID != "" {
		first, err := b.svc.Claim(ctx, "slack-event:"+env.EventID)
		if err != nil {
			log.Error("claim event", "err", err)
			requestEnded(ctx, outcomeLater, "cannot record the event now")
			return nil, &temporaryError{fmt.Errorf("cannot record the event now: %w", err)}
		}
		if !first {
			requestEnded(ctx, outcomeDuplicate, "event "+env.EventID+" already handled; ignoring Slack's retry")
			return nil, nil
		}
	}
	b.goAfterAck(ctx, work)
	return nil, nil
}

// temporaryError is a request Sitrep cannot handle now but may later:
// Slack is asked to send it again (an HTTP 503, or no Socket Mode ack).
type temporaryError struct{ err error }

func (e *temporaryError) Error() string { return e.err.Error() }
func (e *temporaryError) Unwrap() error { return e.err }

// reactionAdded puts a message someone reacted to with the timeline emoji
// on its incident's timeline, once however many people react.
func (b *Bot) reactionAdded(ctx context.Context, log *slog.Logger, ev innerEvent) {
	n, err := b.incidentIn(ctx, log, ev.User, ev.Item.Channel)
	switch incident.ErrorCode(err) {
	case incident.ENOTFOUND:
		return // people react everywhere; only incident channels matter
	case incident.EFORBIDDEN:
		// Slack sends reactions only from the channel's members; one
		// from outside a private incident's channel is not Slack's.
		return
	}
	if err != nil {
		log.Error("reaction: find incident", "err", err)
		return
	}
	log = log.With("incident", n)
	msg, err := b.fetchMessage(ctx, ev.Item.Channel, ev.Item.TS)
	if err != nil {
		log.Error("reaction: fetch message", "ts", ev.Item.TS, "err", err)
		why := describeSlackError(err)
		if errors.Is(err, errMessageGone) {
			why = "it seems to have been deleted"
		}
		b.tell(ctx, log, slashCommand{UserID: ev.User, ChannelID: ev.Item.Channel},
			reply{Text: fmt.Sprintf(":warning: Could not read the message you reacted to (%s), so it is not on the timeline. Try the message's “Add to incident timeline” shortcut, or react again later.", why)})
		return
	}
	text, dup := b.addMessage(ctx, log, n, ev.User, ev.Item.Channel, msg)
	if dup {
		return // someone pinned it first: it is on the timeline already
	}
	b.tell(ctx, log, slashCommand{UserID: ev.User, ChannelID: ev.Item.Channel}, reply{Text: text})
	b.deliv.watch(n, slashCommand{UserID: ev.User, ChannelID: ev.Item.Channel})
}

// errMessageGone is a message that was deleted before it could be read.
var errMessageGone = errors.New("the message is gone")

// fetchMessage reads one message: a channel message from the history, a
// thread reply from its thread.
func (b *Bot) fetchMessage(ctx context.Context, channel, ts string) (slack.Message, error) {
	hist, err := b.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: channel, Latest: ts, Inclusive: true, Limit: 1})
	if err != nil {
		return slack.Message{}, err
	}
	for _, m := range hist.Messages {
		if m.Timestamp == ts {
			return m, nil
		}
	}
	// A reply is found through its thread; the thread's parent counts
	// towards the limit, so ask for two.
	msgs, _, _, err := b.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{ChannelID: channel, Timestamp: ts, Oldest: ts, Latest: ts, Inclusive: true, Limit: 2})
	if err != nil {
		return slack.Message{}, err
	}
	for _, m := range msgs {
		if m.Timestamp == ts {
			return m, nil
		}
	}
	return slack.Message{}, &finalError{errMessageGone}
}
