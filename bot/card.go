package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/slack-go/slack"
)

// syncCard posts the incident card and keeps it current (pass.go's
// touches pins it).
func (s *slackDelivery) syncCard(ctx context.Context, inc *shown, save func() error) error {
	c := &inc.Chat
	var err error
	if inc.Postmortem, err = lastPostmortem(ctx, s.svc, inc.Incident); err != nil {
		return err
	}
	blocks := cardBlocks(inc, s.svc.Config(), s.opts.CommandName, strconv.FormatInt(inc.Version, 10))
	opts := []slack.MsgOption{slack.MsgOptionText(cardText(inc.Incident), false), slack.MsgOptionBlocks(blocks...)}
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
	return nil
}

// cardChanged reports whether the card rendered now differs from what was
// last shown. After a restart nothing is known, so the card is updated once.
func (s *slackDelivery) cardChanged(number int64, h uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.cardHash[number]
	return !ok || old != h
}

// resetCard shows the card afresh, with controls back at what the incident
// says: after a click that changed nothing, the client still shows the
// choice that was refused.
func (s *slackDelivery) resetCard(ctx context.Context, number int64) error {
	unlock, err := s.runner.Lock(ctx, integrationName, number)
	if err != nil {
		return err
	}
	defer unlock()
	inc, _, err := s.load(ctx, number)
	if err != nil || inc.Chat.CardTS == "" {
		return err
	}
	if inc.Postmortem, err = lastPostmortem(ctx, s.svc, inc.Incident); err != nil {
		return err
	}
	// The salt only has to differ from every earlier one, across restarts
	// too; the time in nanoseconds does.
	salt := fmt.Sprintf("%d.r%d", inc.Version, time.Now().UnixNano())
	blocks := cardBlocks(inc, s.svc.Config(), s.opts.CommandName, salt)
	_, _, _, err = s.api.UpdateMessageContext(ctx, inc.Chat.ChannelID, inc.Chat.CardTS, slack.MsgOptionText(cardText(inc.Incident), false), slack.MsgOptionBlocks(blocks...))
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
