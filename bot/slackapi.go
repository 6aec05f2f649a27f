package bot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/slack-go/slack"
)

// slackAPI is the part of slack-go's client the bot uses. Tests use the real
// client pointed at a fake Slack, so this interface exists to keep the bot's
// reach into Slack narrow and visible, not for mocking.
type slackAPI interface {
	CreateConversationContext(ctx context.Context, params slack.CreateConversationParams) (*slack.Channel, error)
	ForceInviteUsersToConversationContext(ctx context.Context, channelID string, users ...string) (*slack.Channel, error)
	JoinConversationContext(ctx context.Context, channelID string) (*slack.Channel, string, []string, error)
	SetTopicOfConversationContext(ctx context.Context, channelID, topic string) (*slack.Channel, error)
	PostEphemeralContext(ctx context.Context, channelID, userID string, options ...slack.MsgOption) (string, error)
	PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error)
	UpdateMessageContext(ctx context.Context, channelID, timestamp string, options ...slack.MsgOption) (string, string, string, error)
	AddPinContext(ctx context.Context, channel string, item slack.ItemRef) error
	GetPermalinkContext(ctx context.Context, params *slack.PermalinkParameters) (string, error)
	GetConversationHistoryContext(ctx context.Context, params *slack.GetConversationHistoryParameters) (*slack.GetConversationHistoryResponse, error)
	GetConversationRepliesContext(ctx context.Context, params *slack.GetConversationRepliesParameters) ([]slack.Message, bool, string, error)
	GetUsersInConversationContext(ctx context.Context, params *slack.GetUsersInConversationParameters) ([]string, string, error)
	OpenViewContext(ctx context.Context, triggerID string, view slack.ModalViewRequest) (*slack.ViewResponse, error)
	PublishViewContext(ctx context.Context, req slack.PublishViewContextRequest) (*slack.ViewResponse, error)
	GetUploadURLExternalContext(ctx context.Context, params slack.GetUploadURLExternalParameters) (*slack.GetUploadURLExternalResponse, error)
	UploadToURL(ctx context.Context, params slack.UploadToURLParameters) error
	CompleteUploadExternalContext(ctx context.Context, params slack.CompleteUploadExternalParameters) (*slack.CompleteUploadExternalResponse, error)
	GetFileInfoContext(ctx context.Context, fileID string, count, page int) (*slack.File, []slack.Comment, *slack.Paging, error)
	GetUserInfoContext(ctx context.Context, user string, options ...slack.GetUserInfoOption) (*slack.User, error)
	ArchiveConversationContext(ctx context.Context, channelID string) error
	GetConversationsContext(ctx context.Context, params *slack.GetConversationsParameters) ([]slack.Channel, string, error)
	AuthTestContext(ctx context.Context) (*slack.AuthTestResponse, error)
	GetConversationInfoContext(ctx context.Context, input *slack.GetConversationInfoInput) (*slack.Channel, error)
	OpenConversationContext(ctx context.Context, params *slack.OpenConversationParameters) (*slack.Channel, bool, bool, error)
}

var _ slackAPI = (*slack.Client)(nil)

// slackError returns the error code of a Slack Web API or response_url
// error answer ("name_taken"), or "" for other errors.
func slackError(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	var re *responseURLError
	if errors.As(err, &re) {
		return re.Code
	}
	return ""
}

// transientCodes are Slack error answers that mean "try again later".
var transientCodes = []string{"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}

// retryable sorts a failed Slack call: rate limits, server errors and network
// trouble are worth retrying; any other error answer is final, because
// sending the same request again will get the same answer.
func retryable(err error) bool {
	var rl *slack.RateLimitedError
	var sc slack.StatusCodeError
	var re *responseURLError
	switch code := slackError(err); {
	case errors.As(err, &rl):
		return true
	case errors.As(err, &sc):
		return sc.Code >= http.StatusInternalServerError || sc.Code == http.StatusTooManyRequests
	case errors.As(err, &re) && code == "":
		return re.Status >= http.StatusInternalServerError || re.Status == http.StatusTooManyRequests
	case code != "":
		return slices.Contains(transientCodes, code)
	case errors.Is(err, context.Canceled):
		return false
	}
	return true
}

// describeSlackError says in a few words what went wrong with a Slack call,
// for the people waiting on it.
func describeSlackError(err error) string {
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return fmt.Sprintf("Slack is rate limiting Sitrep (retry in %s)", rl.RetryAfter)
	}
	if code := slackError(err); code != "" {
		return "Slack answered `" + code + "`"
	}
	if retryable(err) {
		return "Slack did not answer in time"
	}
	return "the Slack call failed"
}

// needsAdmin adds a hint to a refusal that a person must fix.
func needsAdmin(err error) string {
	refused, _ := authRefusal(err)
	switch code := slackError(err); {
	case code == "not_in_channel":
		return " (Sitrep was removed from the channel: invite it back with `/invite @Sitrep`)"
	case code == "msg_blocks_too_long":
		// Permanent for this message: sending it again gets the same
		// answer. Everything is still on the timeline.
		return " (the message is too long for Slack; the timeline and the postmortem have all of it)"
	case code == "channel_not_found" || code == "is_archived":
		return " (invite Sitrep to the channel, or check its ID)"
	case refused != "":
		// A refused token or permission: only a workspace admin or the
		// app's owner can fix it. Slack names the scope it wanted.
		var se slack.SlackErrorResponse
		if errors.As(err, &se) && se.Needed != "" {
			return " (Sitrep lacks the `" + se.Needed + "` scope: a Slack admin needs to reinstall the app from manifest.yaml)"
		}
		return " (a Slack admin needs to fix the app's permissions; see manifest.yaml)"
	}
	return ""
}
