package bot

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/internal/clock"
	"github.com/sitrep-dev/sitrep/internal/slacktier"
	"github.com/sitrep-dev/sitrep/notify"
)

// postBurst is how many messages Sitrep posts to one channel at once
// before keeping to Slack's one a second. Slack allows short bursts but
// says that messages sent faster than one a second may not be stored or
// shown, and does not say how long a safe burst is. A declaration posts
// the card, the checklist and the first timeline message together: three
// go at once, and anything more (a backlog after an outage) flows at one a
// second.
const postBurst = 3

// sitrepLimit is the pace Sitrep keeps for key: chat.postMessage to one
// channel (key "chat.postMessage " + channel) at one a second with
// postBurst at once; every other method across the workspace a little
// under its tier's documented floor, with nearly a minute's allowance at
// once, as Slack allows "occasional bursts". The margin is for the
// network: Slack counts calls when they arrive, and a call that set out on
// time can arrive after a slower one that set out before it. Methods
// without a per-minute tier are not paced.
func sitrepLimit(key string) notify.Limit {
	if strings.HasPrefix(key, postKey) {
		return notify.Limit{Every: slacktier.PostEvery, Burst: postBurst}
	}
	every, n := slacktier.Every(key), slacktier.Of(key).PerMinute()
	return notify.Limit{Every: every + every/10, Burst: max(n-1, 1)}
}

const postKey = "chat.postMessage "

// pacer is a slackAPI that keeps every call within Slack's rate limits,
// across all incidents: a call waits for its method's turn rather than
// drawing a 429, and after a 429 nobody calls that method again until
// Slack's Retry-After has passed. Every method of slackAPI is paced here
// (TestPacerCoversTheAPI checks).
type pacer struct {
	slackAPI
	pace *notify.Pacer
}

func newPacer(api slackAPI, clk clock.Clock) *pacer {
	return &pacer{slackAPI: api, pace: notify.NewPacer(clk, sitrepLimit)}
}

// delay says how long a call of method would wait for its turn now, for
// work that may be put off rather than hold back what people need.
func (p *pacer) delay(method string) time.Duration { return p.pace.Delay(method) }

// paced makes one call of kind key at its turn, and holds the kind back
// for as long as Slack asks when it refuses for a rate limit.
func paced[T any](ctx context.Context, p *pacer, key string, call func() (T, error)) (T, error) {
	if err := p.pace.Wait(ctx, key); err != nil {
		var zero T
		return zero, err
	}
	v, err := call()
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		p.pace.Hold(key, rl.RetryAfter)
	}
	return v, err
}

// two and three carry calls with more results through paced.
type two[A, B any] struct {
	a A
	b B
}

type three[A, B, C any] struct {
	a A
	b B
	c C
}

func (p *pacer) CreateConversationContext(ctx context.Context, params slack.CreateConversationParams) (*slack.Channel, error) {
	return paced(ctx, p, "conversations.create", func() (*slack.Channel, error) {
		return p.slackAPI.CreateConversationContext(ctx, params)
	})
}

func (p *pacer) ForceInviteUsersToConversationContext(ctx context.Context, channelID string, users ...string) (*slack.Channel, error) {
	return paced(ctx, p, "conversations.invite", func() (*slack.Channel, error) {
		return p.slackAPI.ForceInviteUsersToConversationContext(ctx, channelID, users...)
	})
}

func (p *pacer) JoinConversationContext(ctx context.Context, channelID string) (*slack.Channel, string, []string, error) {
	r, err := paced(ctx, p, "conversations.join", func() (three[*slack.Channel, string, []string], error) {
		ch, warning, warnings, err := p.slackAPI.JoinConversationContext(ctx, channelID)
		return three[*slack.Channel, string, []string]{ch, warning, warnings}, err
	})
	return r.a, r.b, r.c, err
}

func (p *pacer) SetTopicOfConversationContext(ctx context.Context, channelID, topic string) (*slack.Channel, error) {
	return paced(ctx, p, "conversations.setTopic", func() (*slack.Channel, error) {
		return p.slackAPI.SetTopicOfConversationContext(ctx, channelID, topic)
	})
}

func (p *pacer) PostEphemeralContext(ctx context.Context, channelID, userID string, options ...slack.MsgOption) (string, error) {
	return paced(ctx, p, "chat.postEphemeral", func() (string, error) {
		return p.slackAPI.PostEphemeralContext(ctx, channelID, userID, options...)
	})
}

func (p *pacer) PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error) {
	r, err := paced(ctx, p, postKey+channelID, func() (two[string, string], error) {
		ch, ts, err := p.slackAPI.PostMessageContext(ctx, channelID, options...)
		return two[string, string]{ch, ts}, err
	})
	return r.a, r.b, err
}

func (p *pacer) UpdateMessageContext(ctx context.Context, channelID, timestamp string, options ...slack.MsgOption) (string, string, string, error) {
	r, err := paced(ctx, p, "chat.update", func() (three[string, string, string], error) {
		ch, ts, text, err := p.slackAPI.UpdateMessageContext(ctx, channelID, timestamp, options...)
		return three[string, string, string]{ch, ts, text}, err
	})
	return r.a, r.b, r.c, err
}

func (p *pacer) AddPinContext(ctx context.Context, channel string, item slack.ItemRef) error {
	_, err := paced(ctx, p, "pins.add", func() (struct{}, error) {
		return struct{}{}, p.slackAPI.AddPinContext(ctx, channel, item)
	})
	return err
}

func (p *pacer) GetPermalinkContext(ctx context.Context, params *slack.PermalinkParameters) (string, error) {
	return paced(ctx, p, "chat.getPermalink", func() (string, error) {
		return p.slackAPI.GetPermalinkContext(ctx, params)
	})
}

func (p *pacer) GetConversationHistoryContext(ctx context.Context, params *slack.GetConversationHistoryParameters) (*slack.GetConversationHistoryResponse, error) {
	return paced(ctx, p, "conversations.history", func() (*slack.GetConversationHistoryResponse, error) {
		return p.slackAPI.GetConversationHistoryContext(ctx, params)
	})
}

func (p *pacer) GetConversationRepliesContext(ctx context.Context, params *slack.GetConversationRepliesParameters) ([]slack.Message, bool, string, error) {
	r, err := paced(ctx, p, "conversations.replies", func() (three[[]slack.Message, bool, string], error) {
		msgs, more, next, err := p.slackAPI.GetConversationRepliesContext(ctx, params)
		return three[[]slack.Message, bool, string]{msgs, more, next}, err
	})
	return r.a, r.b, r.c, err
}

func (p *pacer) GetUsersInConversationContext(ctx context.Context, params *slack.GetUsersInConversationParameters) ([]string, string, error) {
	r, err := paced(ctx, p, "conversations.members", func() (two[[]string, string], error) {
		members, next, err := p.slackAPI.GetUsersInConversationContext(ctx, params)
		return two[[]string, string]{members, next}, err
	})
	return r.a, r.b, err
}

func (p *pacer) OpenViewContext(ctx context.Context, triggerID string, view slack.ModalViewRequest) (*slack.ViewResponse, error) {
	return paced(ctx, p, "views.open", func() (*slack.ViewResponse, error) {
		return p.slackAPI.OpenViewContext(ctx, triggerID, view)
	})
}

func (p *pacer) PublishViewContext(ctx context.Context, req slack.PublishViewContextRequest) (*slack.ViewResponse, error) {
	return paced(ctx, p, "views.publish", func() (*slack.ViewResponse, error) {
		return p.slackAPI.PublishViewContext(ctx, req)
	})
}

func (p *pacer) GetUploadURLExternalContext(ctx context.Context, params slack.GetUploadURLExternalParameters) (*slack.GetUploadURLExternalResponse, error) {
	return paced(ctx, p, "files.getUploadURLExternal", func() (*slack.GetUploadURLExternalResponse, error) {
		return p.slackAPI.GetUploadURLExternalContext(ctx, params)
	})
}

// UploadToURL posts the bytes to the upload_url files.getUploadURLExternal
// gave: not a Web API method, and not rate limited by tier.
func (p *pacer) UploadToURL(ctx context.Context, params slack.UploadToURLParameters) error {
	return p.slackAPI.UploadToURL(ctx, params)
}

func (p *pacer) CompleteUploadExternalContext(ctx context.Context, params slack.CompleteUploadExternalParameters) (*slack.CompleteUploadExternalResponse, error) {
	return paced(ctx, p, "files.completeUploadExternal", func() (*slack.CompleteUploadExternalResponse, error) {
		return p.slackAPI.CompleteUploadExternalContext(ctx, params)
	})
}

func (p *pacer) GetFileInfoContext(ctx context.Context, fileID string, count, page int) (*slack.File, []slack.Comment, *slack.Paging, error) {
	r, err := paced(ctx, p, "files.info", func() (three[*slack.File, []slack.Comment, *slack.Paging], error) {
		f, c, pg, err := p.slackAPI.GetFileInfoContext(ctx, fileID, count, page)
		return three[*slack.File, []slack.Comment, *slack.Paging]{f, c, pg}, err
	})
	return r.a, r.b, r.c, err
}

func (p *pacer) OpenConversationContext(ctx context.Context, params *slack.OpenConversationParameters) (*slack.Channel, bool, bool, error) {
	r, err := paced(ctx, p, "conversations.open", func() (three[*slack.Channel, bool, bool], error) {
		ch, noOp, already, err := p.slackAPI.OpenConversationContext(ctx, params)
		return three[*slack.Channel, bool, bool]{ch, noOp, already}, err
	})
	return r.a, r.b, r.c, err
}

func (p *pacer) GetUserInfoContext(ctx context.Context, user string, options ...slack.GetUserInfoOption) (*slack.User, error) {
	return paced(ctx, p, "users.info", func() (*slack.User, error) {
		return p.slackAPI.GetUserInfoContext(ctx, user, options...)
	})
}

func (p *pacer) ArchiveConversationContext(ctx context.Context, channelID string) error {
	_, err := paced(ctx, p, "conversations.archive", func() (struct{}, error) {
		return struct{}{}, p.slackAPI.ArchiveConversationContext(ctx, channelID)
	})
	return err
}

func (p *pacer) GetConversationsContext(ctx context.Context, params *slack.GetConversationsParameters) ([]slack.Channel, string, error) {
	r, err := paced(ctx, p, "conversations.list", func() (two[[]slack.Channel, string], error) {
		chans, next, err := p.slackAPI.GetConversationsContext(ctx, params)
		return two[[]slack.Channel, string]{chans, next}, err
	})
	return r.a, r.b, err
}

func (p *pacer) AuthTestContext(ctx context.Context) (*slack.AuthTestResponse, error) {
	return paced(ctx, p, "auth.test", func() (*slack.AuthTestResponse, error) {
		return p.slackAPI.AuthTestContext(ctx)
	})
}

func (p *pacer) GetConversationInfoContext(ctx context.Context, input *slack.GetConversationInfoInput) (*slack.Channel, error) {
	return paced(ctx, p, "conversations.info", func() (*slack.Channel, error) {
		return p.slackAPI.GetConversationInfoContext(ctx, input)
	})
}
