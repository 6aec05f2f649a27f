package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack/socketmode"
)

// maxAckPayload keeps Socket Mode acknowledgements under Slack's 20 KB
// limit, past which Slack drops them silently; longer replies go through the
// response_url instead.
const maxAckPayload = 18 << 10

// ackFlushGrace is how long shutdown waits for queued acknowledgements
// to be written.
const ackFlushGrace = 250 * time.Millisecond

// ServeSocket runs the same handlers as the HTTP endpoints over Socket Mode,
// for deployments that Slack cannot reach. It returns when ctx is done or
// the connection fails for good. Requests arrive unsigned: the app-level
// token authenticated the connection.
func (b *Bot) ServeSocket(ctx context.Context, client *socketmode.Client) error {
	// The connection outlives ctx a little: when ctx ends no new request
	// is taken (Slack resends what is not acknowledged), but those under way
	// finish and are acknowledged before the connection closes.
	work := context.WithoutCancel(ctx)
	conn, closeConn := context.WithCancel(work)
	defer closeConn()
	done := make(chan error, 1)
	go func() { done <- client.RunContext(conn) }()
	// Requests are handled side by side, as the HTTP server does, so that
	// one slow Slack call does not make the others miss Slack's 3 s.
	var inFlight sync.WaitGroup
	var handled atomic.Int64 // requests taken; tells whether acks may be queued
	for {
		select {
		case <-ctx.Done():
			inFlight.Wait()
			if handled.Load() > 0 {
				// slack-go queues acknowledgements and writes them from
				// its own goroutine, with no way to flush: give it a
				// moment before the connection closes under it.
				time.Sleep(ackFlushGrace)
			}
			closeConn()
			<-done
			return nil
		case err := <-done:
			inFlight.Wait()
			if err == nil {
				return errors.New("socket mode: the connection ended")
			}
			if _, token := authRefusal(err); token {
				return fmt.Errorf("SLACK_APP_TOKEN: Slack refused it (%w); create an app-level token with connections:write", err)
			}
			return fmt.Errorf("socket mode: %w", err)
		case evt := <-client.Events:
			handled.Add(1)
			inFlight.Add(1)
			go func() {
				defer inFlight.Done()
				b.socketEvent(work, client, evt)
			}()
		}
	}
}

// socketEvent handles one Socket Mode event. Each envelope is acknowledged
// as soon as the quick part of its work is done, as over HTTP.
func (b *Bot) socketEvent(ctx context.Context, client *socketmode.Client, evt socketmode.Event) {
	log := b.log.With("transport", "socket")
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		log.Info("connecting to Slack")
		return
	case socketmode.EventTypeConnected:
		log.Info("connected to Slack")
		return
	case socketmode.EventTypeInvalidAuth:
		log.Error("Slack refused SLACK_APP_TOKEN")
		return
	case socketmode.EventTypeConnectionError, socketmode.EventTypeIncomingError, socketmode.EventTypeErrorBadMessage, socketmode.EventTypeErrorWriteFailed:
		log.Warn("socket mode trouble", "kind", string(evt.Type), "detail", fmt.Sprint(evt.Data))
		return
	}
	if evt.Request == nil {
		return
	}
	req := *evt.Request
	kind := map[socketmode.EventType]string{
		socketmode.EventTypeSlashCommand: kindCommand,
		socketmode.EventTypeInteractive:  kindInteraction,
		socketmode.EventTypeEventsAPI:    kindEvent,
	}[evt.Type]
	if kind == "" {
		return // hello, disconnect: the client handles them
	}
	ctx, record := b.startRequest(ctx, kind, "socket", req.EnvelopeID)
	defer b.endRequest(record, 0)
	var (
		resp any
		err  error
	)
	switch kind {
	case kindCommand:
		resp, err = b.socketCommand(ctx, b.logFor(ctx), req.Payload)
	case kindInteraction:
		resp, err = b.interact(ctx, req.Payload)
	case kindEvent:
		resp, err = b.event(ctx, req.Payload)
	}
	var te *temporaryError
	switch {
	case errors.As(err, &te):
		// Not acknowledging makes Slack send the envelope again later.
		log.Warn("socket mode request not handled now; Slack will resend it", "type", req.Type, "err", err)
		return
	case err != nil:
		// A payload that cannot be read will not read better next time.
		log.Warn("unreadable socket mode request", "type", req.Type, "err", err)
		resp = nil
	}
	if !req.AcceptsResponsePayload {
		resp = nil
	}
	actx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := client.AckCtx(actx, req.EnvelopeID, resp); err != nil {
		log.Error("acknowledge socket mode request", "type", req.Type, "err", err)
	}
}

// socketCommand runs a slash command that came over Socket Mode.
func (b *Bot) socketCommand(ctx context.Context, log *slog.Logger, payload json.RawMessage) (any, error) {
	var f struct {
		UserID      string `json:"user_id"`
		ChannelID   string `json:"channel_id"`
		Text        string `json:"text"`
		ResponseURL string `json:"response_url"`
		TriggerID   string `json:"trigger_id"`
	}
	if err := json.Unmarshal(payload, &f); err != nil {
		requestEnded(ctx, outcomeMalformed, "unreadable slash command")
		return nil, fmt.Errorf("malformed slash command: %w", err)
	}
	if f.UserID == "" || f.ChannelID == "" {
		requestEnded(ctx, outcomeMalformed, "no user_id or channel_id")
		return nil, fmt.Errorf("slash command without user_id or channel_id")
	}
	sc := slashCommand(f)
	rep, ok := b.runCommand(ctx, sc)
	if !ok {
		return nil, nil
	}
	p := rep.payload()
	if data, err := json.Marshal(p); err == nil && len(data) <= maxAckPayload {
		return p, nil
	}
	b.goAfterAck(ctx, func(ctx context.Context) { b.tell(ctx, log, sc, rep) })
	return nil, nil
}
