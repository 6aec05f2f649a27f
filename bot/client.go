package bot

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// NewClient returns the Slack Web API client that New, CheckToken and
// NewSocketClient take: calls go to apiURL ("https://slack.com/api/")
// through hc with botToken; appToken, when not "", is the app-level token
// Socket Mode connects with. Building it here keeps slack-go inside bot.
func NewClient(botToken, appToken, apiURL string, hc *http.Client) *slack.Client {
	opts := []slack.Option{slack.OptionAPIURL(apiURL), slack.OptionHTTPClient(hc)}
	if appToken != "" {
		opts = append(opts, slack.OptionAppLevelToken(appToken))
	}
	return slack.New(botToken, opts...)
}

// NewSocketClient returns the Socket Mode connection that ServeSocket
// serves, made with api's app-level token. slack-go's own messages are
// logged at debug level.
func NewSocketClient(api *slack.Client, log *slog.Logger) *socketmode.Client {
	return socketmode.New(api, socketmode.OptionLog(slog.NewLogLogger(log.Handler(), slog.LevelDebug)))
}

// TokenRefusedError is Slack refusing a token: it is wrong, revoked,
// expired or of the wrong kind. Code is Slack's answer ("invalid_auth").
type TokenRefusedError struct {
	Code string
}

func (e *TokenRefusedError) Error() string {
	return fmt.Sprintf("Slack refused the token (%s)", e.Code)
}

// CheckToken asks Slack who the bot token belongs to, so that a wrong token
// shows at start-up rather than at the first incident. A refused token is a
// *TokenRefusedError. Slack being unreachable is only a warning, and nil:
// Sitrep records incidents anyway and catches up later.
func CheckToken(ctx context.Context, api slackAPI, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := api.AuthTestContext(ctx)
	if code, token := authRefusal(err); token {
		return &TokenRefusedError{Code: code}
	}
	if err != nil {
		log.Warn("could not confirm SLACK_BOT_TOKEN with Slack; carrying on", "err", err)
		return nil
	}
	log.Info("connected to Slack", "team", resp.Team, "bot_user", resp.UserID)
	return nil
}
