package bot

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/internal/clock"
)

// membersFresh is how long a channel's membership, once read from Slack,
// is trusted without the events that keep it current. Sitrep subscribes to
// member_joined_channel and member_left_channel, so this only bounds how
// stale it can be when an event is lost (or the app's subscription lacks
// them).
const membersFresh = 15 * time.Minute

// members knows who is in the private incident channels, so that listing
// incidents (which shows a private one only to its channel's members) asks
// Slack nothing in the usual case: membership is read once per channel
// (conversations.members), then kept by Slack's join and leave events and
// by the invitations Sitrep makes.
type members struct {
	api   slackAPI
	clock clock.Clock

	mu       sync.Mutex
	channels map[string]*channelMembers
}

type channelMembers struct {
	users map[string]bool
	read  time.Time // when Slack last said who is in
}

func newMembers(api slackAPI, clk clock.Clock) *members {
	return &members{api: api, clock: clk, channels: map[string]*channelMembers{}}
}

// has reports whether user is in channel, asking Slack only when the
// channel's membership is not known or not fresh.
func (m *members) has(ctx context.Context, channel, user string) (bool, error) {
	m.mu.Lock()
	cm := m.channels[channel]
	if cm != nil && m.clock.Now().Sub(cm.read) < membersFresh {
		in := cm.users[user]
		m.mu.Unlock()
		return in, nil
	}
	m.mu.Unlock()
	users, err := m.read(ctx, channel)
	if err != nil {
		return false, err
	}
	return slices.Contains(users, user), nil
}

// read asks Slack who is in channel and remembers it.
func (m *members) read(ctx context.Context, channel string) ([]string, error) {
	read := m.clock.Now()
	var users []string
	params := &slack.GetUsersInConversationParameters{ChannelID: channel, Limit: 1000}
	for {
		page, next, err := m.api.GetUsersInConversationContext(ctx, params)
		if err != nil {
			return nil, err
		}
		users = append(users, page...)
		if next == "" {
			break
		}
		params.Cursor = next
	}
	cm := &channelMembers{users: map[string]bool{}, read: read}
	for _, u := range users {
		cm.users[u] = true
	}
	m.mu.Lock()
	m.channels[channel] = cm
	m.mu.Unlock()
	return users, nil
}

// joined and left apply what Slack's events (or Sitrep's own invitations)
// say, to channels whose membership is known; others are read when asked.
func (m *members) joined(channel string, users ...string) { m.set(channel, true, users) }
func (m *members) left(channel string, users ...string)   { m.set(channel, false, users) }

func (m *members) set(channel string, in bool, users []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cm := m.channels[channel]
	if cm == nil {
		return
	}
	for _, u := range users {
		if in {
			cm.users[u] = true
		} else {
			delete(cm.users, u)
		}
	}
}
